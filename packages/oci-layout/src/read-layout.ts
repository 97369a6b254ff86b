import { stat } from 'node:fs/promises';
import {
  type AbortOptions,
  asIndex,
  type BlobLocation,
  type BlobSource,
  checkBlobBytes,
  type Descriptor,
  type Digest,
  documentLabel,
  GraphBudget,
  type GraphLimits,
  type ImageGraph,
  ImgError,
  type Index,
  isDocumentDescriptor,
  isImageConfig,
  parseDigest,
  parseDocument,
  parseJson,
} from '@img/oci-spec';
import { blobPath } from './blob-file.js';
import { LayoutError, type LayoutErrorCode } from './errors.js';
import { DirectorySource, type LayoutSource, TarSource } from './layout-source.js';
import { REF_NAME_ANNOTATION, SOURCES_FILE } from './write-layout.js';

/** Written beside a shallow-pulled layout: where its blobs came from. */
export const BASE_INFO_FILE = 'img-base.json';
/** Bytes of a manifest, an index, index.json or one of our own layout files read at most. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;
/** Bytes of an image config read at most. */
export const DEFAULT_MAX_CONFIG_BYTES = 64 * 1024 * 1024;

export interface BaseInfo {
  readonly reference: string;
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest: string;
}

/** A layout read into the image model, plus what it says about itself. */
export interface ReadLayout extends ImageGraph {
  readonly source: LayoutSource;
  /** The layout's index.json entry that was selected as root. */
  readonly entry: Descriptor;
  /** Present for a layout made by a shallow pull. */
  readonly baseInfo?: BaseInfo;
  /** Where the layout's layers can be fetched or mounted from, by digest (img-base.json, img-sources.json). */
  readonly locations: ReadonlyMap<Digest, readonly BlobLocation[]>;
}

export interface ReadLayoutOptions extends GraphLimits, AbortOptions {
  /** Default DEFAULT_MAX_DOCUMENT_BYTES. */
  readonly maxDocumentBytes?: number;
  /** Default DEFAULT_MAX_CONFIG_BYTES. */
  readonly maxConfigBytes?: number;
  /**
   * Follow symlinks in a layout directory the user trusts (Bazel runfiles); what they lead to must
   * still be regular files. Default false: a symlinked file or directory is refused.
   */
  readonly followSymlinks?: boolean;
}

/**
 * Parse a layout reference: `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`, or a plain path (a
 * directory is a layout dir, a file a layout tar).
 */
export async function openLayoutSource(
  ref: string,
  options: { readonly followSymlinks?: boolean } = {},
): Promise<{ source: LayoutSource; refName?: string }> {
  let kind: 'dir' | 'tar' | undefined;
  let rest = ref;
  if (ref.startsWith('oci:')) {
    kind = 'dir';
    rest = ref.slice(4);
  } else if (ref.startsWith('oci-archive:')) {
    kind = 'tar';
    rest = ref.slice(12);
  }
  let path = rest;
  let refName: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && !(await exists(rest)) && (await exists(rest.slice(0, colon)))) {
    path = rest.slice(0, colon);
    refName = rest.slice(colon + 1);
  }
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new LayoutError('IMG_LAYOUT_NOT_FOUND', `${ref}: no such file or directory`);
  kind ??= st.isDirectory() ? 'dir' : 'tar';
  if (kind === 'dir' && !st.isDirectory())
    throw new LayoutError('IMG_LAYOUT_INVALID', `${ref}: not a directory`);
  if (kind === 'tar' && !st.isFile()) throw new LayoutError('IMG_LAYOUT_INVALID', `${ref}: not a file`);
  return {
    source:
      kind === 'dir'
        ? new DirectorySource(path, options.followSymlinks ? { followSymlinks: true } : {})
        : new TarSource(path),
    ...(refName ? { refName } : {}),
  };
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined)) !== undefined;
}

function selectEntry(index: Index, refName: string | undefined, where: string): Descriptor {
  const entries = index.manifests;
  if (refName !== undefined) {
    const hit = entries.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === refName);
    if (!hit)
      throw new LayoutError(
        'IMG_LAYOUT_NOT_FOUND',
        `${where}: no image named ${JSON.stringify(refName)} in index.json`,
      );
    return hit;
  }
  if (entries.length === 1) return entries[0]!;
  if (entries.length === 0)
    throw new LayoutError('IMG_LAYOUT_INVALID', `${where}: index.json lists no images`);
  const names = entries.map((m) => m.annotations?.[REF_NAME_ANNOTATION] ?? m.digest).join(', ');
  throw new LayoutError(
    'IMG_LAYOUT_INVALID',
    `${where}: index.json lists ${entries.length} images (${names}); name one as ${where}:NAME`,
  );
}

const SPEC_TO_LAYOUT: Record<string, LayoutErrorCode> = {
  IMG_DIGEST_MISMATCH: 'IMG_LAYOUT_DIGEST_MISMATCH',
  IMG_SIZE_MISMATCH: 'IMG_LAYOUT_SIZE_MISMATCH',
  IMG_DOCUMENT_MISSING: 'IMG_LAYOUT_BLOB_MISSING',
};

/** Rethrow a rule violation from @img/oci-spec as a LayoutError with the same message. */
export function asLayoutError(err: unknown): unknown {
  if (err instanceof ImgError && !(err instanceof LayoutError)) {
    return new LayoutError(SPEC_TO_LAYOUT[err.code] ?? 'IMG_LAYOUT_INVALID', err.message, { cause: err });
  }
  return err;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseLocation(v: unknown, where: string): BlobLocation {
  if (!isObject(v) || typeof v.registry !== 'string' || typeof v.repository !== 'string' || !v.registry) {
    throw new LayoutError('IMG_LAYOUT_INVALID', `${where}: expected { registry, repository }`);
  }
  return { registry: v.registry, repository: v.repository };
}

/**
 * Open an OCI layout (dir or tar) and read it into the image model: the documents reachable from its
 * root entry, each checked by the shared document rules (size, digest, kind, schema) and read within
 * a size cap; every walk step deduplicated by digest and capped in depth, fan-out and count. Layer
 * blobs are not read: the ones present become sources, absent ones are simply not in `blobs` (a
 * shallow layout). Every digest is parsed before it becomes a path; blob files that are not regular
 * files (symlinks, devices, FIFOs) are refused.
 */
export async function readLayout(ref: string, options: ReadLayoutOptions = {}): Promise<ReadLayout> {
  try {
    options.signal?.throwIfAborted();
    return await readLayoutOf(ref, options);
  } catch (err) {
    throw options.signal?.aborted ? options.signal.reason : asLayoutError(err);
  }
}

async function readLayoutOf(ref: string, options: ReadLayoutOptions): Promise<ReadLayout> {
  const { source, refName } = await openLayoutSource(
    ref,
    options.followSymlinks ? { followSymlinks: true } : {},
  );
  const where = source.name;
  const maxDocument = options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const maxConfig = options.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES;
  const header = await source.readFile('oci-layout', maxDocument);
  if (!header)
    throw new LayoutError(
      'IMG_LAYOUT_INVALID',
      `${where}: oci-layout file is missing (not an OCI image layout)`,
    );
  const version = (parseJson(header, `${where}/oci-layout`) as { imageLayoutVersion?: string } | null)
    ?.imageLayoutVersion;
  if (version !== '1.0.0')
    throw new LayoutError(
      'IMG_LAYOUT_INVALID',
      `${where}/oci-layout: unsupported imageLayoutVersion ${JSON.stringify(version)}`,
    );
  const indexBytes = await source.readFile('index.json', maxDocument);
  if (!indexBytes) throw new LayoutError('IMG_LAYOUT_INVALID', `${where}: index.json is missing`);
  const index = asIndex(parseJson(indexBytes, `${where}/index.json`), `${where}/index.json`);
  const entry = selectEntry(index, refName, where);

  const budget = new GraphBudget(options);
  const documents = new Map<Digest, Uint8Array>();
  const blobs = new Map<Digest, BlobSource>();
  const layerDigests = new Set<Digest>();
  const readBlob = async (d: Descriptor, what: string, max: number): Promise<Uint8Array> => {
    options.signal?.throwIfAborted();
    const name = blobPath(d.digest, `${what}: digest`);
    if (!Number.isSafeInteger(d.size) || d.size < 0 || d.size > max) {
      throw new LayoutError('IMG_LAYOUT_INVALID', `${what}: size ${d.size} is not within 0..${max}`);
    }
    const bytes = await source.readFile(name, max);
    if (!bytes) throw new LayoutError('IMG_LAYOUT_BLOB_MISSING', `${what} is missing from blobs/`);
    return bytes;
  };
  const visit = async (d: Descriptor, depth: number): Promise<void> => {
    if (documents.has(d.digest)) return;
    const what = documentLabel(d, where);
    budget.admit(depth, what);
    const bytes = await readBlob(d, what, maxDocument);
    const parsed = parseDocument(bytes, d, what);
    documents.set(d.digest, bytes);
    if (parsed.kind === 'index') {
      budget.checkFanOut(parsed.index.manifests.length, what);
      for (const child of parsed.index.manifests) {
        if (isDocumentDescriptor(child)) await visit(child, depth + 1);
      }
      return;
    }
    const m = parsed.manifest;
    budget.checkFanOut(m.layers.length, what);
    const config = m.config;
    if (
      (isImageConfig(config.mediaType) || config.mediaType.endsWith('+json')) &&
      !documents.has(config.digest)
    ) {
      const bytes = await readBlob(config, `${what}: config ${config.digest}`, maxConfig);
      checkBlobBytes(bytes, config, `${what}: config`);
      documents.set(config.digest, bytes);
    } else if (!documents.has(config.digest) && (await source.size(blobPath(config.digest))) !== undefined) {
      // An artifact's config that is not JSON: a blob like a layer.
      blobs.set(config.digest, source.blobSource(config));
    }
    for (const layer of m.layers) {
      if (layerDigests.has(layer.digest)) continue;
      layerDigests.add(layer.digest);
      if ((await source.size(blobPath(layer.digest))) !== undefined) {
        blobs.set(layer.digest, source.blobSource(layer));
      }
    }
  };
  await visit(entry, 0);

  const infoBytes = await source.readFile(BASE_INFO_FILE, maxDocument);
  const baseInfo = infoBytes ? parseBaseInfo(infoBytes, `${where}/${BASE_INFO_FILE}`) : undefined;
  const locations = new Map<Digest, readonly BlobLocation[]>();
  if (baseInfo) {
    const origin = [{ registry: baseInfo.registry, repository: baseInfo.repository }];
    for (const digest of layerDigests) locations.set(digest, origin);
  }
  const sourcesBytes = await source.readFile(SOURCES_FILE, maxDocument);
  if (sourcesBytes) {
    const file = `${where}/${SOURCES_FILE}`;
    const doc = parseJson(sourcesBytes, file);
    if (!isObject(doc)) throw new LayoutError('IMG_LAYOUT_INVALID', `${file}: not a JSON object`);
    for (const [key, list] of Object.entries(doc)) {
      const digest = parseDigest(key, `${file}: key`);
      if (!Array.isArray(list)) throw new LayoutError('IMG_LAYOUT_INVALID', `${file}: ${key}: not a list`);
      locations.set(
        digest,
        list.map((l, i) => parseLocation(l, `${file}: ${key}[${i}]`)),
      );
    }
  }
  const root: Descriptor = {
    mediaType: entry.mediaType,
    digest: entry.digest,
    size: entry.size,
    ...(entry.platform ? { platform: entry.platform } : {}),
  };
  return {
    root,
    documents,
    blobs,
    locations,
    source,
    entry,
    ...(baseInfo ? { baseInfo } : {}),
  };
}

function parseBaseInfo(bytes: Uint8Array, where: string): BaseInfo {
  const doc = parseJson(bytes, where);
  if (!isObject(doc)) throw new LayoutError('IMG_LAYOUT_INVALID', `${where}: not a JSON object`);
  const { registry, repository } = parseLocation(doc, where);
  return { ...(doc as unknown as BaseInfo), registry, repository };
}
