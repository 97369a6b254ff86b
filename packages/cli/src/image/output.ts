import { DirectorySink, type FileSink, TarSink, writeDockerArchive, writeOciLayout } from '@img/oci-layout';
import { type ImageGraph, type Platform, withRemoteBlobs } from '@img/oci-spec';
import { CliError } from '../util/errors.js';
import type { RegistryFlags } from '../util/registry.js';
import { registryFetcher } from './remote-blobs.js';

export type OutputTarget =
  | { readonly kind: 'oci'; readonly path: string; readonly refName?: string }
  | { readonly kind: 'oci-archive'; readonly path: string; readonly refName?: string }
  | { readonly kind: 'docker-archive'; readonly path: string; readonly repoTags: string[] };

/**
 * Parse `oci:DIR[:REF]`, `oci-archive:FILE[:REF]` or `docker-archive:FILE[:NAME:TAG]`.
 * For docker archives, the image name may carry a registry port (`localhost:5000/app:1`).
 */
export function parseOutputTarget(text: string): OutputTarget {
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon) : '';
  const rest = text.slice(colon + 1);
  if (kind === 'oci' || kind === 'oci-archive') {
    const [path, refName] = splitRef(rest);
    if (!path) throw usage(text);
    return { kind, path, ...(refName ? { refName } : {}) };
  }
  if (kind === 'docker-archive') {
    const i = rest.indexOf(':');
    const path = i < 0 ? rest : rest.slice(0, i);
    const name = i < 0 ? undefined : rest.slice(i + 1);
    if (!path) throw usage(text);
    if (name !== undefined && !/^[^:]+(:\d+)?(\/[^:]+)*:[\w][\w.-]{0,127}$/.test(name)) {
      throw new CliError('IMG_CLI_USAGE', `--output ${text}: ${JSON.stringify(name)} is not NAME:TAG`);
    }
    return { kind, path, repoTags: name ? [name] : [] };
  }
  throw usage(text);
}

function splitRef(rest: string): [string, string | undefined] {
  const i = rest.lastIndexOf(':');
  if (i < 0) return [rest, undefined];
  return [rest.slice(0, i), rest.slice(i + 1)];
}

function usage(text: string): CliError {
  return new CliError(
    'IMG_CLI_USAGE',
    `--output ${JSON.stringify(text)}: expected oci:DIR, oci-archive:FILE or docker-archive:FILE[:NAME:TAG]`,
  );
}

function sinkFor(target: OutputTarget): FileSink {
  return target.kind === 'oci' ? new DirectorySink(target.path) : new TarSink(target.path);
}

/**
 * Write an image or index to an output target; nothing is left behind on failure. OCI layouts may
 * stay shallow (base layers with sources are recorded, not downloaded); a docker archive needs every
 * layer, so absent base layers are streamed from their registries into it.
 */
export async function writeOutput(
  graph: ImageGraph,
  target: OutputTarget,
  options: { platform?: Platform; allowMissingBlobs?: boolean } & RegistryFlags = {},
): Promise<void> {
  const sink = sinkFor(target);
  if (target.kind === 'docker-archive') {
    const remote = registryFetcher(options);
    try {
      await writeDockerArchive(withRemoteBlobs(graph, remote.fetch), sink, {
        repoTags: target.repoTags,
        ...(options.platform ? { platform: options.platform } : {}),
      });
    } finally {
      await remote.close();
    }
    return;
  }
  await writeOciLayout(graph, sink, {
    refName: target.refName ?? 'latest',
    ...(options.allowMissingBlobs ? { allowMissingBlobs: true } : {}),
  });
}
