import { MANIFEST_ACCEPT, SpecError } from '@img/oci-spec';
import { pushScope } from '../auth/scopes.js';
import { RegistryError } from '../errors.js';
import type { RawDocument } from '../pull/manifest.js';
import { dump } from '../transport/body.js';
import { header, type RequestStats, type Transport } from '../transport/transport.js';

/**
 * PUT a manifest or index under a tag or its digest, with Content-Type = its media type and the exact
 * bytes; checks the Docker-Content-Digest the registry answers with.
 */
export async function putManifest(
  transport: Transport,
  target: { registry: string; repository: string },
  doc: RawDocument,
  reference: string,
  ctx: { stats?: RequestStats; signal?: AbortSignal; scopes?: readonly string[] } = {},
): Promise<void> {
  const res = await transport.send({
    method: 'PUT',
    url: transport.endpoints(target.registry).manifest(target.repository, reference),
    registry: target.registry,
    repository: target.repository,
    scopes: ctx.scopes ?? [pushScope(target.repository)],
    headers: { 'content-type': doc.descriptor.mediaType },
    body: doc.bytes,
    expect: [200, 201],
    what: 'PUT manifest',
    stats: ctx.stats,
    signal: ctx.signal,
  });
  await dump(res.body);
  const stored = header(res, 'docker-content-digest');
  if (stored && stored !== doc.descriptor.digest) {
    throw new SpecError(
      'IMG_DIGEST_MISMATCH',
      `PUT manifest ${target.registry}/${target.repository}:${reference}: registry stored ${stored}, we sent ${doc.descriptor.digest}`,
    );
  }
}

const ACCEPT = MANIFEST_ACCEPT.join(', ');

/**
 * The digest `reference` (a tag or digest) points at in the repository: HEAD with the push scopes
 * (one token for the whole push). Undefined when it is absent, when the registry does not say
 * (no Docker-Content-Digest), or when it answers with an error status (401/403 on a push-only grant,
 * 405 from a proxy...): the caller then just pushes, and that push reports any real problem.
 * Connection failures and 5xx after retries are thrown: the push could not go better.
 */
export async function manifestDigestAt(
  transport: Transport,
  target: { registry: string; repository: string },
  reference: string,
  ctx: { stats?: RequestStats; signal?: AbortSignal; scopes?: readonly string[] } = {},
): Promise<string | undefined> {
  try {
    const res = await transport.send({
      method: 'HEAD',
      url: transport.endpoints(target.registry).manifest(target.repository, reference),
      registry: target.registry,
      repository: target.repository,
      scopes: ctx.scopes ?? [pushScope(target.repository)],
      headers: { accept: ACCEPT },
      expect: [200, 404],
      what: 'HEAD manifest',
      stats: ctx.stats,
      signal: ctx.signal,
    });
    await dump(res.body);
    return res.status === 200 ? header(res, 'docker-content-digest') : undefined;
  } catch (err) {
    const answered = err instanceof RegistryError && err.status !== undefined && !err.retryable;
    if (answered && !ctx.signal?.aborted) return undefined;
    throw err;
  }
}
