import fc from 'fast-check';

/**
 * fast-check arbitraries from a JSON Schema: the REST bodies' zod schemas (through
 * `z.toJSONSchema`) and the MCP tools' input schemas (as `tools/list` gives them) both become
 * inputs that are nearly right, which reach deeper than random bytes do. `bodyFor` mixes them
 * with wrong types, missing and extra fields, and plain junk.
 */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: boolean | JsonSchema;
  [other: string]: unknown;
};

/** Strings that have broken parsers before: traversal, encodings, control and odd Unicode characters. */
export const nastyString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '..',
    '../..',
    '%2e%2e',
    '%252e%252e/x',
    'a/../../b',
    '/',
    '//',
    '\u0000',
    'a\u0000b',
    '\r\nX-Injected: 1',
    '${jndi:ldap://x}',
    "'; DROP TABLE secrets; --",
    '<script>alert(1)</script>',
    '\u202e\u202d',
    '\ud800',
    '🦅'.repeat(300),
    'a'.repeat(5000),
    '**',
    '*/**/*',
    '{"__proto__":{"polluted":1}}',
    '__proto__',
    'constructor',
    'NaN',
    '-1',
    '1e309',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Any JSON value, with prototype-pollution keys now and then. */
export const junkJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
    JSON.parse('{"constructor":{"prototype":{"polluted":true}}}') as unknown,
  ),
  nastyString,
  fc.constantFrom(null, true, 0, -1, 2 ** 53, 1e308, [], {}),
);

const dateTime = fc
  .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
  .map((date) => date.toISOString());

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date-time') return dateTime;
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 30, minLength + 30);
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength, maxLength }) },
    { weight: 1, arbitrary: nastyString },
  );
}

/** Values that fit `schema` (mostly: strings include nasty ones, as real clients send). */
export function arbitraryFor(schema: JsonSchema | boolean | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || schema === true || depth > 4) return junkJson;
  if (schema === false) return fc.constant(undefined);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives)
    return fc.oneof(...alternatives.map((alternative) => arbitraryFor(alternative, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({
        min: Math.max(schema.minimum ?? -1_000_000, Number.MIN_SAFE_INTEGER),
        max: Math.min(schema.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER),
      });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum, max: schema.maximum });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(arbitraryFor(schema.items, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, (schema.minItems ?? 0) + 4),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties))
        record[name] = arbitraryFor(property, depth + 1);
      if (Object.keys(record).length === 0)
        return fc.dictionary(fc.string({ maxLength: 8 }), junkJson, { maxKeys: 3 });
      return fc.record(record, { requiredKeys: [...required].filter((name) => name in record) });
    }
    default:
      return junkJson;
  }
}

/**
 * Request bodies for a schema: fitting ones, ones with one field of the wrong type or missing,
 * ones with unknown fields, and junk.
 */
export function bodyFor(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  if (!schema) return junkJson;
  const fitting = arbitraryFor(schema);
  const names = Object.keys(schema.properties ?? {});
  const variants: fc.Arbitrary<unknown>[] = [fitting, junkJson];
  if (names.length > 0) {
    variants.push(
      fc
        .tuple(fitting, fc.constantFrom(...names), junkJson)
        .map(([body, name, wrong]) =>
          body !== null && typeof body === 'object' ? { ...body, [name]: wrong } : body,
        ),
      fc.tuple(fitting, fc.constantFrom(...names)).map(([body, name]) => {
        if (body === null || typeof body !== 'object') return body;
        const copy = { ...(body as Record<string, unknown>) };
        delete copy[name];
        return copy;
      }),
      fc
        .tuple(fitting, fc.string({ maxLength: 12 }), junkJson)
        .map(([body, name, extra]) =>
          body !== null && typeof body === 'object' ? { ...body, [name]: extra } : body,
        ),
    );
  }
  return fc.oneof(...variants);
}
