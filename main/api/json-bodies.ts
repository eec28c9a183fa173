import type { FastifyInstance } from 'fastify';

/**
 * Request bodies are JSON and nothing else: Fastify's text/plain parser goes, so a form or a
 * `text/plain` post from a web page (a "simple" cross-origin request) is refused with 415 before
 * any route runs. Parsing is Fastify's own (prototype poisoning refused); an empty body with a JSON
 * content type, which some clients send on a POST that has nothing to say, counts as no body.
 */
export function acceptJsonBodiesOnly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
