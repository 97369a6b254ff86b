import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** Counters of one operation (a push, a pull); shared by all its requests. */
export interface RequestStats {
  /** HTTP requests sent: every attempt, redirect hop and re-challenge counts. */
  requests: number;
  /** Requests repeated after a retryable failure, and resumed bodies and uploads. */
  retries: number;
}

/** Streams and async iterables are sent once: such a request is never repeated by the retry layer. */
export type RequestBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One HTTP exchange, before credentials: what the layers below auth send. */
export interface HttpRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** A stream or iterable body is sent once: the request is then never retried below (the caller resumes). */
  readonly body?: RequestBody;
  readonly signal?: AbortSignal;
  /** Follow 301/302/303/307/308. Default true for GET and HEAD, false otherwise. */
  readonly followRedirects?: boolean;
  /** A GET whose body, cut mid-way, may be resumed with `Range` (content-addressed blobs). Default false. */
  readonly resumable?: boolean;
  /** Use the blob-download connection pool (so streaming a blob into an upload cannot starve). */
  readonly blobPool?: boolean;
  readonly stats?: RequestStats;
  /** Names the operation in errors: `GET manifest`, `PATCH blob upload`... */
  readonly what: string;
  /** The registry (and repository) the request is about, for errors. */
  readonly registry: string;
  readonly repository?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
  /** The URL that answered (after redirects). */
  readonly url: URL;
}

/** Anything that sends an HttpRequest: the plain HTTP layer, or auth wrapped around it. */
export interface Sender {
  send(req: HttpRequest): Promise<HttpResponse>;
}

/** First value of a response header. */
export function header(res: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** True for bodies that can be sent again (none, a string, bytes). */
export function isReplayable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

/** `registry/repository`, or the registry alone. */
export function whereOf(req: { registry: string; repository?: string }): string {
  return req.repository ? `${req.registry}/${req.repository}` : req.registry;
}
