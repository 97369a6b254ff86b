import type { CasPushRequest } from '@img/bes-listener';
import type { BlobLocation, Digest } from '@img/oci-spec';
import { CliError } from '../util/errors.js';
import { checkDeployRequest, checkNoTemplates } from './request.js';

/**
 * A push request the BES listener read from the remote cache: a deploy request (checked against the
 * schema) for a bes push, whose destination and tags are final (stamped at build time) and whose image
 * is named by `root`. Blob sources naming registries become the image's locations; local files mean
 * nothing on the listener's machine and are ignored.
 */
export function parseBesPushRequest(bytes: Uint8Array, where: string): CasPushRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new CliError('IMG_CLI_INVALID_INPUT', `${where}: not JSON (${(err as Error).message})`);
  }
  const request = checkDeployRequest(doc, where);
  if (request.command !== 'push' || request.strategy !== 'bes') {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `${where}: a ${request.strategy ?? 'eager'} ${request.command} request, not a bes push`,
    );
  }
  checkNoTemplates(request, where);
  if (request.tag_file !== undefined) {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `${where}: tag_file is read at bazel run, which a bes push does not have; use tags (stamped)`,
    );
  }
  const locations = new Map<Digest, readonly BlobLocation[]>();
  for (const [digest, sources] of Object.entries(request.blobs ?? {})) {
    const registries = sources.filter((s): s is BlobLocation => 'registry' in s);
    if (registries.length > 0) locations.set(digest as Digest, registries);
  }
  return {
    registry: request.registry,
    repository: request.repository,
    tags: request.tags,
    root: request.root!,
    locations,
  };
}
