import { stat } from 'node:fs/promises';
import {
  asIndex,
  asManifest,
  type BlobSource,
  type Descriptor,
  documentKind,
  type Index,
  isImageConfig,
  parseJson,
  verifyBytes,
} from '@img/oci-spec';
import { LayoutError } from './errors.js';
import type { BlobHandle, ImageContent } from './image-content.js';
import { DirectorySource, type LayoutSource, TarSource } from './layout-source.js';
import { blobPath, REF_NAME_ANNOTATION, SOURCES_FILE } from './write-layout.js';

/** Written beside a shallow-pulled layout: where its blobs came from. */
export const BASE_INFO_FILE = 'img-base.json';

export interface BaseInfo {
  readonly reference: string;
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest: string;
}

export interface ReadLayout extends ImageContent {
  readonly source: LayoutSource;
  /** The layout's index.json entry that was selected as root. */
  readonly entry: Descriptor;
  /** Present for a layout made by a shallow pull. */
  readonly baseInfo?: BaseInfo;
  /** Where the layout's layers can be fetched or mounted from, by digest (img-base.json, img-sources.json). */
  readonly sources: ReadonlyMap<string, readonly BlobSource[]>;
}

/**
 * Parse a layout reference: `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`, or a plain path (a
 * directory is a layout dir, a file a layout tar).
 */
export async function openLayoutSource(ref: string): Promise<{ source: LayoutSource; refName?: string }> {
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
    source: kind === 'dir' ? new DirectorySource(path) : new TarSource(path),
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

/**
 * Open an OCI layout (dir or tar) and load the documents reachable from its root entry,
 * verifying each against its digest. Layer blobs are not read: they become handles, and a
 * layer absent from the layout is simply absent from `blobs` (a shallow layout).
 */
export async function readLayout(ref: string): Promise<ReadLayout> {
  const { source, refName } = await openLayoutSource(ref);
  const where = source.name;
  const header = await source.readFile('oci-layout');
  if (!header)
    throw new LayoutError(
      'IMG_LAYOUT_INVALID',
      `${where}: oci-layout file is missing (not an OCI image layout)`,
    );
  const version = (parseJson(header, `${where}/oci-layout`) as { imageLayoutVersion?: string })
    .imageLayoutVersion;
  if (version !== '1.0.0')
    throw new LayoutError(
      'IMG_LAYOUT_INVALID',
      `${where}/oci-layout: unsupported imageLayoutVersion ${JSON.stringify(version)}`,
    );
  const indexBytes = await source.readFile('index.json');
  if (!indexBytes) throw new LayoutError('IMG_LAYOUT_INVALID', `${where}: index.json is missing`);
  const index = asIndex(parseJson(indexBytes, `${where}/index.json`), `${where}/index.json`);
  const entry = selectEntry(index, refName, where);

  const documents = new Map<string, Uint8Array>();
  const blobs = new Map<string, BlobHandle>();
  const layerDescriptors: Descriptor[] = [];
  const readDocument = async (d: Descriptor, what: string): Promise<Uint8Array> => {
    const bytes = await source.readFile(blobPath(d.digest));
    if (!bytes)
      throw new LayoutError(
        'IMG_LAYOUT_BLOB_MISSING',
        `${where}: ${what} ${d.digest} is missing from blobs/`,
      );
    try {
      verifyBytes(bytes, d.digest, `${where}: ${what}`);
    } catch (e) {
      throw new LayoutError('IMG_LAYOUT_DIGEST_MISMATCH', (e as Error).message, { cause: e });
    }
    documents.set(d.digest, bytes);
    return bytes;
  };
  const visit = async (d: Descriptor, what: string): Promise<void> => {
    const bytes = await readDocument(d, what);
    const doc = parseJson(bytes, `${where}: ${what}`);
    if (documentKind(doc, d.mediaType) === 'index') {
      const ix = asIndex(doc, `${where}: ${what}`);
      for (const [i, child] of ix.manifests.entries()) {
        if (documentKindOf(child)) await visit(child, `${what}.manifests[${i}]`);
      }
      return;
    }
    const m = asManifest(doc, `${where}: ${what}`);
    if (isImageConfig(m.config.mediaType) || m.config.mediaType.endsWith('+json'))
      await readDocument(m.config, `${what} config`);
    for (const layer of m.layers) {
      layerDescriptors.push(layer);
      if (blobs.has(layer.digest)) continue;
      const name = blobPath(layer.digest);
      const size = await source.size(name);
      if (size === undefined) continue;
      blobs.set(layer.digest, {
        descriptor: layer,
        open: async () => (await source.openFile(name))!,
      });
    }
  };
  await visit(entry, 'index.json entry');

  const infoBytes = await source.readFile(BASE_INFO_FILE);
  const baseInfo = infoBytes ? (parseJson(infoBytes, `${where}/${BASE_INFO_FILE}`) as BaseInfo) : undefined;
  const sources = new Map<string, readonly BlobSource[]>();
  if (baseInfo) {
    const origin = [{ registry: baseInfo.registry, repository: baseInfo.repository }];
    for (const layer of layerDescriptors) sources.set(layer.digest, origin);
  }
  const sourcesBytes = await source.readFile(SOURCES_FILE);
  if (sourcesBytes) {
    const doc = parseJson(sourcesBytes, `${where}/${SOURCES_FILE}`) as Record<string, BlobSource[]>;
    for (const [digest, list] of Object.entries(doc)) sources.set(digest, list);
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
    source,
    entry,
    ...(baseInfo ? { baseInfo } : {}),
    sources,
  };
}

function documentKindOf(d: Descriptor): boolean {
  return d.mediaType.includes('manifest') || d.mediaType.includes('index');
}
