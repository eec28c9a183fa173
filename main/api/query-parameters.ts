import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseRequest } from '../engine/index.js';

/**
 * Query-string fields arrive as text (or as a list when repeated, which these refuse). Messages
 * read after the field name, as the engine's schemas do, so `parseRequest` words the 400.
 */
export function queryInteger(min: number, max: number) {
  const message = `must be a whole number from ${min} to ${max}`;
  return z
    .string({ error: message })
    .regex(/^[0-9]{1,10}$/u, { error: message })
    .transform(Number)
    .refine((value) => value >= min && value <= max, { error: message });
}

export const queryBoolean = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

export function queryText(maxLength: number) {
  return z
    .string({ error: 'must be given once, as text' })
    .max(maxLength, { error: `must be at most ${maxLength} characters` });
}

/** The request's query string checked against `schema`; 400 naming each bad field otherwise. */
export function parseQuery<S extends z.ZodType>(
  schema: S,
  request: FastifyRequest,
  what: string,
): z.output<S> {
  return parseRequest(schema, request.query ?? {}, what);
}
