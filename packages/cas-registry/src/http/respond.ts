import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpError } from './http-error.js';

/** Sent on every response: Docker clients check it on /v2/. */
export const API_VERSION_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' } as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': String(bytes.length),
  });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

/** An empty response (HEAD answers, 201/202/204 acknowledgements). */
export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, { 'Content-Length': '0', ...headers });
  res.end();
}

/** The spec's error body: {"errors":[{code, message, detail}]} (no body for HEAD). */
export function sendError(req: IncomingMessage, res: ServerResponse, err: HttpError): void {
  const body = { errors: [{ code: err.code, message: err.message, detail: err.detail }] };
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(err.status, {
    ...err.headers,
    'Content-Type': 'application/json',
    'Content-Length': String(bytes.length),
  });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}
