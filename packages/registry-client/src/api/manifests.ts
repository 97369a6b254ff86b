import { pushScope } from '../auth/scopes.js';
import type { RequestContext } from '../pull/manifest.js';
import { manifestReference, type Reference } from '../reference.js';
import { dump } from '../transport/body.js';
import type { Transport } from '../transport/transport.js';

/**
 * DELETE a manifest by the reference's digest, or by its tag (a registry that implements tag deletion
 * removes only the tag; many answer 400/405 UNSUPPORTED, reported as such).
 */
export async function deleteManifest(
  transport: Transport,
  ref: Reference,
  ctx: RequestContext = {},
): Promise<void> {
  const res = await transport.send({
    method: 'DELETE',
    url: transport.endpoints(ref.registry).manifest(ref.repository, manifestReference(ref)),
    registry: ref.registry,
    repository: ref.repository,
    scopes: [`repository:${ref.repository}:delete`, pushScope(ref.repository)],
    expect: [200, 202, 204],
    what: 'DELETE manifest',
    ...ctx,
  });
  await dump(res.body);
}

/**
 * GET /v2/ with the registry's credentials: resolves when they are accepted (a token is obtained
 * where the registry asks for one), rejects with IMG_REGISTRY_UNAUTHORIZED when they are not.
 */
export async function checkCredentials(
  transport: Transport,
  registry: string,
  ctx: RequestContext = {},
): Promise<void> {
  const res = await transport.send({
    method: 'GET',
    url: transport.endpoints(registry).ping(),
    registry,
    scopes: [],
    expect: [200],
    what: 'GET /v2/',
    ...ctx,
  });
  await dump(res.body);
}
