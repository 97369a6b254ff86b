import {
  type BlobHandle,
  checkLayoutDirectory,
  DirectorySink,
  type DirectorySinkOptions,
  type FileSink,
  type ImageContent,
  reachableDescriptors,
  TarSink,
  writeDockerArchive,
  writeOciLayout,
} from '@img/oci-layout';
import type { Platform } from '@img/oci-spec';
import type { RegistryClient } from '@img/registry-client';
import { CliError } from '../util/errors.js';
import { parseIntFlag } from '../util/flags.js';
import { createRegistryClient, type RegistryFlags } from '../util/registry.js';

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

/** Seconds to wait for another img writing the same layout directory (default 30). */
export const LOCK_TIMEOUT_ENV = 'IMG_LOCK_TIMEOUT';

/** Help of the --force flag of commands that write OCI layout directories. */
export const FORCE_HELP = `write oci:DIR into a non-empty folder that is not an OCI layout (its files are kept); an existing layout is always updated in place, waiting up to $${LOCK_TIMEOUT_ENV} seconds (30) for another writer`;

/** How an OCI layout directory may be written: `--force` for a folder that is not a layout yet. */
export interface LayoutDirectoryFlags {
  force?: boolean;
}

/** DirectorySink options from the flags and the environment. */
export function layoutDirectoryOptions(flags: LayoutDirectoryFlags): DirectorySinkOptions {
  const seconds = process.env[LOCK_TIMEOUT_ENV];
  return {
    ...(flags.force ? { force: true } : {}),
    ...(seconds ? { lockTimeoutMs: parseIntFlag(seconds, LOCK_TIMEOUT_ENV, 0, 86_400) * 1000 } : {}),
  };
}

function sinkFor(target: OutputTarget, flags: LayoutDirectoryFlags): FileSink {
  return target.kind === 'oci'
    ? new DirectorySink(target.path, layoutDirectoryOptions(flags))
    : new TarSink(target.path);
}

/**
 * Fail before any work when the output cannot be written: a folder that holds something other than
 * an OCI layout (unless --force). The writer checks again, under the layout lock.
 */
export async function checkOutputTarget(target: OutputTarget, flags: LayoutDirectoryFlags): Promise<void> {
  if (target.kind === 'oci') await checkLayoutDirectory(target.path, layoutDirectoryOptions(flags));
}

/**
 * Content whose absent layers (shallow base layers) are streamed from their source registries,
 * verified; `client` is created only when such a layer exists.
 */
function withRemoteBlobs(content: ImageContent, client: () => RegistryClient): ImageContent {
  const missing = reachableDescriptors(content).layers.filter(
    (l) => !content.blobs.has(l.digest) && content.sources?.get(l.digest)?.length,
  );
  if (missing.length === 0) return content;
  const blobs = new Map<string, BlobHandle>(content.blobs);
  for (const layer of missing) {
    const source = content.sources!.get(layer.digest)![0]!;
    blobs.set(layer.digest, { descriptor: layer, open: () => client().fetchBlob(source, layer) });
  }
  return { ...content, blobs };
}

/**
 * Write an image or index to an output target; nothing is left behind on failure. An OCI layout
 * directory is updated in place (blobs added, index.json entries merged under a lock). OCI layouts may
 * stay shallow (base layers with sources are recorded, not downloaded); a docker archive needs every
 * layer, so absent base layers are streamed from their registries into it.
 */
export async function writeOutput(
  content: ImageContent,
  target: OutputTarget,
  options: { platform?: Platform; allowMissingBlobs?: boolean } & RegistryFlags & LayoutDirectoryFlags = {},
): Promise<void> {
  const sink = sinkFor(target, options);
  if (target.kind === 'docker-archive') {
    let client: RegistryClient | undefined;
    try {
      await writeDockerArchive(
        withRemoteBlobs(content, () => (client ??= createRegistryClient(options))),
        sink,
        {
          repoTags: target.repoTags,
          ...(options.platform ? { platform: options.platform } : {}),
        },
      );
    } finally {
      await client?.close();
    }
    return;
  }
  await writeOciLayout(content, sink, {
    refName: target.refName ?? 'latest',
    ...(options.allowMissingBlobs ? { allowMissingBlobs: true } : {}),
  });
}
