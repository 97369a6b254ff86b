import { stat } from 'node:fs/promises';
import { readDockerArchive, readLayout, TarSource } from '@img/oci-layout';
import { type ImageGraph, type Platform, withRemoteBlobs } from '@img/oci-spec';
import { formatReference, parseReference, type Reference } from '@img/registry-client';
import { CliError } from '../util/errors.js';
import { createRegistryClient, type RegistryFlags } from '../util/registry.js';
import { registryFetcher } from './remote-blobs.js';

export type InputKind = 'registry' | 'oci' | 'oci-archive' | 'docker-archive';

/** An image named on the command line, read into the image model. */
export interface OpenedInput {
  readonly kind: InputKind;
  /** What to call it in messages: `oci:DIR`, `docker-archive:FILE`, `registry/repo:tag`. */
  readonly name: string;
  /**
   * A registry image's layers are fetched when opened; a layout's absent layers (shallow) stay absent,
   * with their locations (a push mounts or streams them).
   */
  readonly graph: ImageGraph;
  /** For a registry input: the parsed reference. */
  readonly reference?: Reference;
  /** For a docker-save archive: its RepoTags. */
  readonly repoTags?: readonly string[];
  /** Close the registry connections (if any were opened). */
  close(): Promise<void>;
}

export interface OpenInputOptions extends RegistryFlags {
  /** A registry index: keep only this platform's image. */
  readonly platform?: Platform;
}

/** Help text for commands that take any input. */
export const INPUT_HELP =
  'a registry reference (REGISTRY/REPO[:TAG][@DIGEST], or docker://REF), oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:NAME:TAG], or a layout path';

/** `docker-archive:FILE[:NAME:TAG]` split into the file and the optional image name. */
function dockerArchiveParts(rest: string): { path: string; repoTag?: string } {
  const colon = rest.indexOf(':');
  return colon < 0 ? { path: rest } : { path: rest.slice(0, colon), repoTag: rest.slice(colon + 1) };
}

async function pathKind(path: string): Promise<'dir' | 'file' | undefined> {
  const st = await stat(path).catch(() => undefined);
  return st?.isDirectory() ? 'dir' : st?.isFile() ? 'file' : undefined;
}

function noClose(): Promise<void> {
  return Promise.resolve();
}

/**
 * Open what an input argument names: a registry image (shallow: documents now, layers streamed when
 * read), an OCI layout directory or archive, or a `docker save` archive. A bare existing path is a
 * layout directory, an OCI archive or a docker-save archive, by its contents; anything else must parse
 * as a registry reference.
 */
export async function openInput(text: string, options: OpenInputOptions = {}): Promise<OpenedInput> {
  if (text.startsWith('docker-archive:')) {
    const { path, repoTag } = dockerArchiveParts(text.slice('docker-archive:'.length));
    const image = await readDockerArchive(path, repoTag ? { repoTag } : {});
    return { kind: 'docker-archive', name: text, graph: image, repoTags: image.repoTags, close: noClose };
  }
  if (text.startsWith('oci:') || text.startsWith('oci-archive:')) {
    const graph = await readLayout(text);
    return { kind: text.startsWith('oci:') ? 'oci' : 'oci-archive', name: text, graph, close: noClose };
  }
  const kind = text.startsWith('docker://') ? undefined : await pathKind(text);
  if (kind === 'dir') {
    const graph = await readLayout(text);
    return { kind: 'oci', name: `oci:${text}`, graph, close: noClose };
  }
  if (kind === 'file') {
    const tar = new TarSource(text);
    if ((await tar.size('oci-layout')) === undefined && (await tar.size('manifest.json')) !== undefined) {
      const image = await readDockerArchive(text);
      return {
        kind: 'docker-archive',
        name: `docker-archive:${text}`,
        graph: image,
        repoTags: image.repoTags,
        close: noClose,
      };
    }
    const graph = await readLayout(text);
    return { kind: 'oci-archive', name: `oci-archive:${text}`, graph, close: noClose };
  }
  return openRegistryInput(text.replace(/^docker:\/\//, ''), options);
}

async function openRegistryInput(text: string, options: OpenInputOptions): Promise<OpenedInput> {
  let reference: Reference;
  try {
    reference = parseReference(text);
  } catch {
    throw new CliError(
      'IMG_CLI_USAGE',
      `${JSON.stringify(text)}: not a file, a layout or a registry reference (${INPUT_HELP})`,
    );
  }
  const client = createRegistryClient(options);
  try {
    const pulled = await client.pullImage(reference, options.platform ? { platform: options.platform } : {});
    const graph = withRemoteBlobs(pulled, registryFetcher(options, client).fetch);
    return {
      kind: 'registry',
      name: formatReference(reference),
      graph: { ...graph, root: pulled.root },
      reference,
      close: () => client.close(),
    };
  } catch (err) {
    await client.close();
    throw err;
  }
}
