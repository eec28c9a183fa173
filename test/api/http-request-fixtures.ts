import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * A local HTTPS server with a certificate from a CA made for the test (openssl), for `localhost`
 * and 127.0.0.1, and a plain HTTP twin. Routes: /echo (method, headers and body back as JSON),
 * /redirect?to=<url> (302), /big (2 MiB), /slow (never answers), /gzip (a gzipped echo).
 */
export interface TestUpstream {
  ca: string;
  httpsPort: number;
  httpPort: number;
  close(): Promise<void>;
}

export async function startTestUpstream(): Promise<TestUpstream> {
  const dir = mkdtempSync(join(tmpdir(), 'talon-upstream-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=Talon Test CA',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  ]);
  const extensions = join(dir, 'san.ext');
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > '${extensions}'`]);
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  ]);
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const key = readFileSync(join(dir, 'server.key'));
  const cert = readFileSync(join(dir, 'server.crt'));
  rmSync(dir, { recursive: true, force: true });

  const hanging = new Set<ServerResponse>();
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'https://localhost');
      const echo = JSON.stringify({
        method: request.method,
        path: url.pathname + url.search,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      switch (url.pathname) {
        case '/echo':
          response.writeHead(200, {
            'content-type': 'application/json',
            'x-echo-auth': String(request.headers.authorization ?? ''),
          });
          response.end(echo);
          return;
        case '/gzip':
          response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          response.end(gzipSync(echo));
          return;
        case '/redirect':
          response.writeHead(302, { location: url.searchParams.get('to') ?? '/echo' });
          response.end();
          return;
        case '/big':
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.end(Buffer.alloc(2 * 1024 * 1024, 'a'));
          return;
        case '/slow':
          hanging.add(response);
          return;
        default:
          response.writeHead(404);
          response.end('not found');
      }
    });
  };
  const https = createHttpsServer({ key, cert }, handle);
  const http = createHttpServer(handle);
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    ca,
    httpsPort: (https.address() as AddressInfo).port,
    httpPort: (http.address() as AddressInfo).port,
    async close() {
      for (const response of hanging) response.destroy();
      https.closeAllConnections();
      http.closeAllConnections();
      await new Promise((resolve) => https.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
