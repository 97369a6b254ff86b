import { createHash } from 'node:crypto';

/** A response before any fault is applied to it. */
export interface PlainResponse {
  status: number;
  headers: Record<string, string | number>;
  body: Buffer;
}

const EMPTY: Buffer = Buffer.alloc(0);

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function errorBody(code: string, message: string): Buffer {
  return Buffer.from(JSON.stringify({ errors: [{ code, message }] }));
}

function reply(
  status: number,
  headers: Record<string, string | number> = {},
  body: Buffer = EMPTY,
): PlainResponse {
  return { status, headers: { 'content-length': body.length, ...headers }, body };
}

function notFound(code: string): PlainResponse {
  const body = errorBody(code, code.toLowerCase().replaceAll('_', ' '));
  return reply(404, { 'content-type': 'application/json' }, body);
}

interface Manifest {
  readonly mediaType: string;
  readonly bytes: Buffer;
}

/**
 * The in-memory storage and API of a minimal OCI distribution registry: blobs (HEAD/GET with Range),
 * upload sessions (POST, PATCH with or without Content-Range, status GET, PUT ?digest=), manifests
 * by tag or digest. Lenient where a hostile test needs it: a PATCH to an unknown session opens it.
 */
export class RegistryStore {
  readonly blobs = new Map<string, Buffer>();
  readonly #manifests = new Map<string, Manifest>();
  readonly #sessions = new Map<string, Buffer[]>();
  #nextSession = 1;

  putBlob(bytes: Buffer): string {
    const digest = digestOf(bytes);
    this.blobs.set(digest, bytes);
    return digest;
  }

  putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): string {
    const digest = digestOf(bytes);
    this.#manifests.set(`${repository}@${digest}`, { mediaType, bytes });
    this.#manifests.set(`${repository}:${reference}`, { mediaType, bytes });
    return digest;
  }

  /**
   * Answer one /v2/ API request. `uploadLocation` turns a session id into the Location a POST
   * answers with (an absolute URL may point at another origin).
   */
  handle(
    method: string,
    url: URL,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
    uploadLocation: (repository: string, id: string) => string,
  ): PlainResponse {
    const path = url.pathname;
    if (path === '/v2/' || path === '/v2')
      return reply(200, { 'docker-distribution-api-version': 'registry/2.0' });
    let m = /^\/v2\/(.+)\/blobs\/uploads\/?([\w-]*)$/.exec(path);
    if (m) return this.#upload(method, url, m[1]!, m[2] ?? '', headers, body, uploadLocation);
    m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path);
    if (m) return this.#blob(method, m[2]!, headers);
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (m) return this.#manifest(method, m[1]!, decodeURIComponent(m[2]!), headers, body);
    return notFound('NAME_UNKNOWN');
  }

  #blob(
    method: string,
    digest: string,
    headers: Record<string, string | string[] | undefined>,
  ): PlainResponse {
    const blob = this.blobs.get(digest);
    if (!blob) return method === 'HEAD' ? reply(404) : notFound('BLOB_UNKNOWN');
    const base = {
      'content-type': 'application/octet-stream',
      'docker-content-digest': digest,
      etag: `"${digest}"`,
    };
    const range = /^bytes=(\d+)-$/.exec(String(headers.range ?? ''));
    if (range && method === 'GET' && Number(range[1]) < blob.length) {
      const start = Number(range[1]);
      const part = blob.subarray(start);
      return reply(
        206,
        { ...base, 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` },
        part,
      );
    }
    if (method === 'HEAD')
      return { status: 200, headers: { ...base, 'content-length': blob.length }, body: EMPTY };
    return reply(200, base, blob);
  }

  #upload(
    method: string,
    url: URL,
    repository: string,
    id: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
    uploadLocation: (repository: string, id: string) => string,
  ): PlainResponse {
    if (method === 'POST' && id === '') {
      const mount = url.searchParams.get('mount');
      if (mount && this.blobs.has(mount)) return reply(201, { location: `/v2/${repository}/blobs/${mount}` });
      const next = `s${this.#nextSession++}`;
      this.#sessions.set(next, []);
      return reply(202, { location: uploadLocation(repository, next), range: '0-0' });
    }
    let parts = this.#sessions.get(id);
    if (!parts && method === 'PATCH') {
      parts = [];
      this.#sessions.set(id, parts);
    }
    if (!parts) return notFound('BLOB_UPLOAD_UNKNOWN');
    const size = parts.reduce((n, p) => n + p.length, 0);
    const here = url.pathname;
    if (method === 'GET') return reply(204, { location: here, range: `0-${Math.max(0, size - 1)}` });
    if (method === 'PATCH') {
      const from = /^(\d+)-\d+$/.exec(String(headers['content-range'] ?? ''));
      if (from && Number(from[1]) !== size) return reply(416, { location: here, range: `0-${size - 1}` });
      parts.push(body);
      return reply(202, { location: here, range: `0-${size + body.length - 1}` });
    }
    if (method === 'PUT') {
      parts.push(body);
      const bytes = Buffer.concat(parts);
      const digest = url.searchParams.get('digest') ?? '';
      if (digestOf(bytes) !== digest) {
        return reply(
          400,
          { 'content-type': 'application/json' },
          errorBody('DIGEST_INVALID', 'digest mismatch'),
        );
      }
      this.blobs.set(digest, bytes);
      this.#sessions.delete(id);
      return reply(201, { location: `/v2/${repository}/blobs/${digest}`, 'docker-content-digest': digest });
    }
    return reply(405);
  }

  #manifest(
    method: string,
    repository: string,
    reference: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): PlainResponse {
    if (method === 'PUT') {
      const mediaType = String(headers['content-type'] ?? 'application/vnd.oci.image.manifest.v1+json');
      const digest = this.putManifest(repository, reference, mediaType, body);
      return reply(201, {
        location: `/v2/${repository}/manifests/${digest}`,
        'docker-content-digest': digest,
      });
    }
    const key = reference.startsWith('sha256:') ? `${repository}@${reference}` : `${repository}:${reference}`;
    const doc = this.#manifests.get(key);
    if (!doc) return method === 'HEAD' ? reply(404) : notFound('MANIFEST_UNKNOWN');
    const h = { 'content-type': doc.mediaType, 'docker-content-digest': digestOf(doc.bytes) };
    if (method === 'HEAD')
      return { status: 200, headers: { ...h, 'content-length': doc.bytes.length }, body: EMPTY };
    return reply(200, h, doc.bytes);
  }
}
