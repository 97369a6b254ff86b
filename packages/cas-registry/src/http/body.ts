import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { HttpError } from './http-error.js';

/** The declared Content-Length, undefined when absent; a malformed value is a 400. */
export function contentLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new HttpError(400, 'SIZE_INVALID', `invalid Content-Length ${value}`);
  return Number(value);
}

function tooLarge(what: string, max: number): HttpError {
  return new HttpError(413, 'SIZE_INVALID', `${what} is larger than the ${max} bytes this registry accepts`);
}

/** Fails with 413 as soon as more than `max` bytes went through. */
export function limitBytes(max: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > max) cb(tooLarge(what, max));
      else cb(null, chunk);
    },
  });
}

/**
 * The request body as a stream that a failing pipeline may destroy without destroying the socket (so
 * the error response still reaches the client), with a client disconnect surfacing as an error and a
 * declared Content-Length above `max` refused before a byte is read.
 */
export function requestBody(req: IncomingMessage, max: number, what: string): Readable {
  const declared = contentLength(req);
  if (declared !== undefined && declared > max) throw tooLarge(what, max);
  const body = new PassThrough();
  const abort = () => {
    if (!req.complete) body.destroy(new HttpError(400, 'BLOB_UPLOAD_INVALID', `${what}: client went away`));
  };
  req.once('aborted', abort);
  req.once('close', abort);
  req.once('error', (err) => body.destroy(err));
  body.once('close', () => req.unpipe(body));
  req.pipe(body);
  return body;
}

/** Reads a small body (a manifest) into memory, refusing more than `max` bytes with 413. */
export async function readSmallBody(req: IncomingMessage, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of requestBody(req, max, what)) {
    size += (chunk as Buffer).length;
    if (size > max) throw tooLarge(what, max);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
