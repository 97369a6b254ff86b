import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegistryContext } from '../context.js';
import { deleteBlob, getBlob } from '../handlers/blobs.js';
import { listReferrers, listRepositories, listTags } from '../handlers/listing.js';
import { deleteManifest, getManifest, putManifest } from '../handlers/manifests.js';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from '../handlers/uploads.js';
import { MANIFEST_MEDIA_TYPES } from '../manifest-check.js';
import { HttpError, unsupported } from './http-error.js';
import { repositoryParam } from './params.js';
import { sendJson } from './respond.js';

type Handler = (
  ctx: RegistryContext,
  req: IncomingMessage,
  res: ServerResponse,
  params: { name: string; reference: string; query: URLSearchParams },
) => Promise<void>;

interface Route {
  readonly pattern: RegExp;
  /** Whether the first group is a repository name (checked against the grammar before any handler). */
  readonly named: boolean;
  readonly methods: Readonly<Record<string, Handler>>;
}

const base: Handler = async (_ctx, _req, res) => sendJson(res, 200, {});

// Order matters: a repository name may itself contain "blobs" or "uploads" components.
const ROUTES: readonly Route[] = [
  { pattern: /^\/v2\/?$/, named: false, methods: { GET: base, HEAD: base } },
  {
    pattern: /^\/v2\/_catalog$/,
    named: false,
    methods: { GET: (ctx, _req, res, p) => listRepositories(ctx, res, p.query) },
  },
  {
    pattern: /^\/v2\/(.+)\/tags\/list$/,
    named: true,
    methods: { GET: (ctx, _req, res, p) => listTags(ctx, res, p.name, p.query) },
  },
  {
    pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    named: true,
    methods: {
      GET: (ctx, req, res, p) => getManifest(ctx, req, res, p.name, p.reference, MANIFEST_MEDIA_TYPES),
      HEAD: (ctx, req, res, p) => getManifest(ctx, req, res, p.name, p.reference, MANIFEST_MEDIA_TYPES),
      PUT: (ctx, req, res, p) => putManifest(ctx, req, res, p.name, p.reference, p.query),
      DELETE: (ctx, _req, res, p) => deleteManifest(ctx, res, p.name, p.reference),
    },
  },
  {
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/,
    named: true,
    methods: { POST: (ctx, req, res, p) => startUpload(ctx, req, res, p.name, p.query) },
  },
  {
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    named: true,
    methods: {
      GET: (ctx, _req, res, p) => uploadStatus(ctx, res, p.name, p.reference),
      PATCH: (ctx, req, res, p) => patchUpload(ctx, req, res, p.name, p.reference),
      PUT: (ctx, req, res, p) => finishUpload(ctx, req, res, p.name, p.reference, p.query),
      DELETE: (ctx, _req, res, p) => cancelUpload(ctx, res, p.name, p.reference),
    },
  },
  {
    pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/,
    named: true,
    methods: {
      GET: (ctx, req, res, p) => getBlob(ctx, req, res, p.name, p.reference),
      HEAD: (ctx, req, res, p) => getBlob(ctx, req, res, p.name, p.reference),
      DELETE: (ctx, _req, res, p) => deleteBlob(ctx, res, p.name, p.reference),
    },
  },
  {
    pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/,
    named: true,
    methods: { GET: (ctx, _req, res, p) => listReferrers(ctx, res, p.name, p.reference, p.query) },
  },
];

/** Finds the route of a request and runs its handler; throws HttpError for unknown paths and methods. */
export async function route(ctx: RegistryContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The path as sent: no dot-segment normalisation (a name with `..` is refused, not resolved).
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s);
  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPath);
  } catch {
    throw new HttpError(400, 'NAME_INVALID', 'malformed percent-encoding in the path');
  }
  const query = new URLSearchParams(rawQuery);
  for (const r of ROUTES) {
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    const handler = r.methods[req.method ?? ''];
    if (!handler) {
      throw unsupported(`${req.method} is not supported on ${pathname}`);
    }
    const name = r.named ? repositoryParam(m[1]!) : '';
    await handler(ctx, req, res, { name, reference: m[2] ?? '', query });
    return;
  }
  throw new HttpError(404, 'NAME_UNKNOWN', `no such endpoint ${pathname}`);
}
