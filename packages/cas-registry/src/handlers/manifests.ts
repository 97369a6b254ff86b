import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegistryContext } from '../context.js';
import { type BlobDigest, digestOf, parseBlobDigest } from '../digests.js';
import { readSmallBody } from '../http/body.js';
import {
  digestInvalid,
  HttpError,
  manifestInvalid,
  manifestUnknown,
  nameUnknown,
} from '../http/http-error.js';
import { digestParam } from '../http/params.js';
import { sendEmpty } from '../http/respond.js';
import { baseMediaType, checkPushedManifest, referrerDescriptor } from '../manifest-check.js';
import { isTag } from '../names.js';

type Reference = { readonly tag: string } | { readonly digest: BlobDigest };

/** A tag, or (with a colon) a digest: 400 DIGEST_INVALID for a malformed digest. */
function parseReference(reference: string): Reference | undefined {
  if (reference.includes(':')) return { digest: digestParam(reference, 'reference') };
  return isTag(reference) ? { tag: reference } : undefined;
}

/**
 * True when the Accept header allows `mediaType`: no header, a wildcard, the type itself, or a header
 * that names no manifest type at all (old clients send `application/json`). A client that lists
 * manifest types but not this one gets a 404, as Docker's registry answers.
 */
function accepts(accept: string | undefined, mediaType: string, known: readonly string[]): boolean {
  if (!accept) return true;
  const types = accept.split(',').map((t) => baseMediaType(t));
  if (types.some((t) => t === '*/*' || t === 'application/*' || t === mediaType)) return true;
  return !types.some((t) => known.includes(t));
}

/** GET/HEAD /v2/<name>/manifests/<tag-or-digest>: the exact bytes pushed, with their media type. */
export async function getManifest(
  ctx: RegistryContext,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  reference: string,
  knownTypes: readonly string[],
): Promise<void> {
  const ref = parseReference(reference);
  if (!(await ctx.repositories.repositoryExists(name))) throw nameUnknown(name);
  const digest = ref && ('digest' in ref ? ref.digest : await ctx.repositories.resolveTag(name, ref.tag));
  const manifest = digest && (await ctx.repositories.readManifest(name, digest));
  if (!manifest) throw manifestUnknown(name, reference);
  if (!accepts(req.headers.accept, manifest.mediaType, knownTypes)) {
    throw new HttpError(
      404,
      'MANIFEST_UNKNOWN',
      `manifest ${reference} is a ${manifest.mediaType}, which the Accept header does not allow`,
    );
  }
  res.writeHead(200, {
    'Content-Type': manifest.mediaType,
    'Content-Length': String(manifest.bytes.length),
    'Docker-Content-Digest': manifest.digest.value,
    ETag: `"${manifest.digest.value}"`,
  });
  res.end(req.method === 'HEAD' ? undefined : manifest.bytes);
}

/** The `tag` query parameters of a push by digest, checked. */
function tagParams(ctx: RegistryContext, query: URLSearchParams): string[] {
  const tags = [...new Set(query.getAll('tag'))];
  if (tags.length > ctx.limits.maxTagsPerPush) {
    throw new HttpError(414, 'UNSUPPORTED', `more than ${ctx.limits.maxTagsPerPush} tag parameters`);
  }
  for (const tag of tags) if (!isTag(tag)) throw manifestInvalid(`invalid tag ${JSON.stringify(tag)}`);
  return tags;
}

/**
 * PUT /v2/<name>/manifests/<tag-or-digest>[?tag=...]: stores the exact bytes after checking them and
 * that every blob (in the store, with the size given) and child manifest (in this repository) exists.
 */
export async function putManifest(
  ctx: RegistryContext,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  reference: string,
  query: URLSearchParams,
): Promise<void> {
  const ref = parseReference(reference);
  if (!ref) throw manifestInvalid(`invalid tag ${JSON.stringify(reference)}`);
  const extraTags = 'digest' in ref ? tagParams(ctx, query) : [];
  const bytes = await readSmallBody(req, ctx.limits.maxManifestBytes, 'manifest');
  const algorithm = 'digest' in ref ? ref.digest.algorithm : 'sha256';
  const digest = parseBlobDigest(digestOf(algorithm, bytes))!;
  if ('digest' in ref && ref.digest.value !== digest.value) {
    throw digestInvalid(`manifest hashes to ${digest.value}, not ${ref.digest.value}`);
  }
  const pushed = checkPushedManifest(bytes, req.headers['content-type']);
  const tags = 'tag' in ref ? [ref.tag] : extraTags;
  await ctx.lock.withShared(async () => {
    for (const blob of pushed.blobs) {
      // The size lets a store that finds blobs by digest and size (the CAS) find ones a build wrote.
      const stat = await ctx.blobs.stat(blob.digest, { size: blob.size });
      if (!stat) throw unknownReference(blob.where, blob.digest);
      if (stat.size !== blob.size) {
        throw manifestInvalid(
          `${blob.where}: size ${blob.size}, but blob ${blob.digest.value} has ${stat.size} bytes`,
        );
      }
    }
    for (const child of pushed.children) {
      const manifest = await ctx.repositories.readManifest(name, child.digest);
      if (!manifest) throw unknownReference(child.where, child.digest);
      if (manifest.bytes.length !== child.size) {
        throw manifestInvalid(
          `${child.where}: size ${child.size}, but manifest ${child.digest.value} has ${manifest.bytes.length} bytes`,
        );
      }
    }
    await ctx.repositories.linkBlobs(
      name,
      pushed.blobs.map((b) => b.digest),
    );
    for (const blob of pushed.blobs) ctx.keepAlive?.touch(blob.digest.value);
    await ctx.repositories.writeManifest(
      name,
      {
        digest,
        mediaType: pushed.mediaType,
        bytes,
        ...(pushed.subject ? { subject: pushed.subject.value } : {}),
      },
      pushed.subject ? referrerDescriptor(pushed, digest, bytes.length) : undefined,
    );
    for (const tag of tags) await ctx.repositories.writeTag(name, tag, digest);
  });
  sendEmpty(res, 201, {
    Location: `/v2/${name}/manifests/${digest.value}`,
    'Docker-Content-Digest': digest.value,
    ...(pushed.subject ? { 'OCI-Subject': pushed.subject.value } : {}),
    ...(extraTags.length > 0 ? { 'OCI-Tag': extraTags } : {}),
  });
}

function unknownReference(where: string, digest: BlobDigest): HttpError {
  return new HttpError(400, 'MANIFEST_BLOB_UNKNOWN', `${where}: ${digest.value} unknown to registry`, {
    detail: { digest: digest.value },
  });
}

/** DELETE /v2/<name>/manifests/<tag-or-digest>: a tag alone, or a manifest with every tag naming it. */
export async function deleteManifest(
  ctx: RegistryContext,
  res: ServerResponse,
  name: string,
  reference: string,
): Promise<void> {
  const ref = parseReference(reference);
  if (!(await ctx.repositories.repositoryExists(name))) throw nameUnknown(name);
  const deleted =
    ref &&
    (await ctx.lock.withShared(() =>
      'digest' in ref
        ? ctx.repositories.deleteManifest(name, ref.digest)
        : ctx.repositories.deleteTag(name, ref.tag),
    ));
  if (!deleted) throw manifestUnknown(name, reference);
  sendEmpty(res, 202);
}
