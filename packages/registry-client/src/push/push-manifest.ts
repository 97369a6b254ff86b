import { SpecError } from '@img/oci-spec';
import { pushScope } from '../auth/scopes.js';
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
