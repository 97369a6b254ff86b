import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  type BlobSource,
  canonicalJsonBytes,
  type Descriptor,
  type Digest,
  type ImageGraph,
  isDigest,
  MediaType,
  parseConfig,
  parseJson,
  sha256Digest,
} from '@img/oci-spec';
import { LayoutError } from './errors.js';
import { TarSource } from './layout-source.js';
import { DEFAULT_MAX_CONFIG_BYTES, DEFAULT_MAX_DOCUMENT_BYTES } from './read-layout.js';

/** A docker-save archive read into the image model, plus the names it carries. */
export interface DockerArchiveImage extends ImageGraph {
  /** `RepoTags` of the selected manifest.json entry. */
  readonly repoTags: readonly string[];
}

export interface ReadDockerArchiveOptions {
  /** Pick the manifest.json entry tagged with this `name:tag` (default: the only entry). */
  readonly repoTag?: string;
  /** Default DEFAULT_MAX_CONFIG_BYTES. */
  readonly maxConfigBytes?: number;
}

interface SaveEntry {
  readonly Config: string;
  readonly RepoTags?: readonly string[] | null;
  readonly Layers: readonly string[];
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function invalid(where: string, why: string): never {
  throw new LayoutError('IMG_LAYOUT_INVALID', `${where}: ${why}`);
}

function asEntries(doc: unknown, where: string): SaveEntry[] {
  const ok =
    Array.isArray(doc) &&
    doc.every(
      (e) =>
        typeof e === 'object' &&
        e !== null &&
        typeof e.Config === 'string' &&
        Array.isArray(e.Layers) &&
        e.Layers.every((l: unknown) => typeof l === 'string') &&
        (e.RepoTags === undefined ||
          e.RepoTags === null ||
          (Array.isArray(e.RepoTags) && e.RepoTags.every((t: unknown) => typeof t === 'string'))),
    );
  if (!ok) invalid(where, 'expected a list of {"Config", "RepoTags", "Layers"}');
  return doc as SaveEntry[];
}

async function firstBytes(source: BlobSource, n: number): Promise<Buffer> {
  const stream: Readable = await source.open();
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    got += (chunk as Buffer).length;
    if (got >= n) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, n);
}

async function sha256Of(source: BlobSource): Promise<Digest> {
  const hash = createHash('sha256');
  for await (const chunk of await source.open()) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}` as Digest;
}

const startsWith = (b: Buffer, magic: number[]) => magic.every((m, i) => b[i] === m);

/**
 * Read a `docker save` archive (manifest.json with Config, RepoTags, Layers; any Docker version, or
 * skopeo/crane docker-archive output) as one image: its config exactly as stored, a Docker v2 schema 2
 * manifest made for it, and each layer file as a blob. Uncompressed layers take their diff_id as digest
 * (checked when read); compressed ones (gzip, zstd) are hashed once here. Member names come from the
 * archive's own index; nothing is extracted.
 */
export async function readDockerArchive(
  path: string,
  options: ReadDockerArchiveOptions = {},
): Promise<DockerArchiveImage> {
  const source = new TarSource(path);
  const where = `docker-archive:${path}`;
  const manifestBytes = await source.readFile('manifest.json', DEFAULT_MAX_DOCUMENT_BYTES);
  if (!manifestBytes) invalid(where, 'manifest.json is missing (not a docker save archive)');
  const entries = asEntries(parseJson(manifestBytes, `${where}/manifest.json`), `${where}/manifest.json`);
  let entry: SaveEntry | undefined;
  if (options.repoTag !== undefined) {
    entry = entries.find((e) => e.RepoTags?.includes(options.repoTag!));
    if (!entry) {
      throw new LayoutError('IMG_LAYOUT_NOT_FOUND', `${where}: no image tagged ${options.repoTag}`);
    }
  } else if (entries.length === 1) {
    entry = entries[0]!;
  } else {
    const names = entries.map((e, i) => e.RepoTags?.[0] ?? `#${i}`).join(', ');
    invalid(where, `holds ${entries.length} images (${names}); name one as ${where}:NAME:TAG`);
  }
  const configBytes = await source.readFile(entry.Config, options.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES);
  if (!configBytes) invalid(where, `${entry.Config} (the config manifest.json names) is missing`);
  const configDescriptor: Descriptor = {
    mediaType: MediaType.DockerConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  const config = parseConfig(configBytes, configDescriptor, `${where}/${entry.Config}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== entry.Layers.length) {
    invalid(
      where,
      `manifest.json lists ${entry.Layers.length} layers, the config ${diffIds.length} diff_ids`,
    );
  }
  const blobs = new Map<Digest, BlobSource>();
  const layers: Descriptor[] = [];
  for (const [i, name] of entry.Layers.entries()) {
    const size = await source.size(name);
    if (size === undefined) invalid(where, `layer ${name} (manifest.json Layers[${i}]) is missing`);
    const diffId = diffIds[i]!;
    if (!isDigest(diffId)) invalid(where, `config rootfs.diff_ids[${i}] is not a digest`);
    const probe = source.memberSource(name, { mediaType: MediaType.DockerLayer, digest: diffId, size });
    const head = await firstBytes(probe, 4);
    const compression = startsWith(head, GZIP_MAGIC)
      ? 'gzip'
      : startsWith(head, ZSTD_MAGIC)
        ? 'zstd'
        : 'none';
    const mediaType =
      compression === 'gzip'
        ? MediaType.DockerLayerGzip
        : compression === 'zstd'
          ? MediaType.OciLayerZstd
          : MediaType.DockerLayer;
    const digest = compression === 'none' ? diffId : await sha256Of(probe);
    const descriptor: Descriptor = { mediaType, digest, size };
    layers.push(descriptor);
    blobs.set(digest, source.memberSource(name, descriptor));
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: configDescriptor,
    layers,
  };
  const bytes = canonicalJsonBytes(manifest, 'manifest');
  const root: Descriptor = {
    mediaType: MediaType.DockerManifest,
    digest: sha256Digest(bytes),
    size: bytes.length,
  };
  return {
    root,
    documents: new Map<Digest, Uint8Array>([
      [root.digest, bytes],
      [configDescriptor.digest, configBytes],
    ]),
    blobs,
    repoTags: entry.RepoTags ?? [],
  };
}
