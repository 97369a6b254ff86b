import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { type BlobSource, bytesBlobSource, firstAvailableSource } from './blob-source.js';
import { canonicalJsonBytes } from './canonical-json.js';
import type { Digest } from './digest.js';
import { sha256Digest } from './digest.js';
import { parseDocument } from './document-rules.js';
import { bestImage, listManifests, selectImage } from './image-entries.js';
import { type ImageGraph, reachableDescriptors, walkDocuments } from './image-graph.js';
import { MediaType } from './media-types.js';
import { withRemoteBlobs } from './remote-blobs.js';
import type { Descriptor, ImageConfig } from './types.js';

class Graph {
  readonly documents = new Map<Digest, Uint8Array>();
  add(value: unknown, mediaType: string, shape: 'manifest' | 'index' | 'config' | 'sorted' = 'sorted') {
    const bytes = canonicalJsonBytes(value, shape);
    const digest = sha256Digest(bytes);
    this.documents.set(digest, bytes);
    return { mediaType, digest, size: bytes.length } as Descriptor;
  }
  image(arch: string, layers: Descriptor[]): Descriptor {
    const config: ImageConfig = {
      architecture: arch,
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256Digest(`diff ${l.digest}`)) },
    };
    const c = this.add(config, MediaType.OciConfig, 'config');
    return this.add(
      { schemaVersion: 2, mediaType: MediaType.OciManifest, config: c, layers },
      MediaType.OciManifest,
      'manifest',
    );
  }
  index(manifests: Descriptor[]): Descriptor {
    return this.add(
      { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests },
      MediaType.OciIndex,
      'index',
    );
  }
  graph(root: Descriptor, blobs: ReadonlyMap<Digest, BlobSource> = new Map()): ImageGraph {
    return { root, documents: this.documents, blobs };
  }
}

const layer = (text: string): Descriptor => ({
  mediaType: MediaType.OciLayerGzip,
  digest: sha256Digest(text),
  size: text.length,
});

describe('walks over an image graph', () => {
  it('visit each document once, children before parents, configs before their manifest', () => {
    const g = new Graph();
    const shared = layer('shared');
    const amd = g.image('amd64', [shared, layer('amd')]);
    const arm = g.image('arm64', [shared]);
    const root = g.index([{ ...amd, platform: { os: 'linux', architecture: 'amd64' } }, arm, amd]);
    const { documents, layers } = reachableDescriptors(g.graph(root));
    expect(documents.map((d) => d.mediaType)).toEqual([
      MediaType.OciConfig,
      MediaType.OciManifest,
      MediaType.OciConfig,
      MediaType.OciManifest,
      MediaType.OciIndex,
    ]);
    expect(layers.map((l) => l.digest)).toEqual([shared.digest, layer('amd').digest]);
    expect(listManifests(g.graph(root)).map((i) => i.platform.architecture)).toEqual(['amd64', 'arm64']);
  });

  it('finish at once on an index listing the same child twice, 40 levels deep, and cap the depth', () => {
    const g = new Graph();
    let top = g.image('amd64', [layer('x')]);
    for (let i = 0; i < 40; i++) top = g.index([top, top]);
    const started = performance.now();
    expect(walkDocuments(g.graph(top), { maxDepth: 64 })).toHaveLength(41);
    expect(listManifests(g.graph(top), { maxDepth: 64 })).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(() => reachableDescriptors(g.graph(top))).toThrow(
      expect.objectContaining({
        code: 'IMG_GRAPH_LIMIT',
        message: expect.stringMatching(/nested deeper than 8/),
      }),
    );
  });

  it('cap the fan-out and the number of documents', () => {
    const g = new Graph();
    const images = Array.from({ length: 30 }, (_, i) => g.image(`arch${i}`, [layer(`l${i}`)]));
    const wide = g.index(images);
    expect(() => walkDocuments(g.graph(wide), { maxFanOut: 10 })).toThrow(
      /30 entries, more than the limit of 10/,
    );
    expect(() => walkDocuments(g.graph(wide), { maxDocuments: 20 })).toThrow(/more than 20 distinct/);
    expect(walkDocuments(g.graph(wide))).toHaveLength(31);
  });

  it('name a missing child and refuse documents that break the shared rules', () => {
    const g = new Graph();
    const img = g.image('amd64', []);
    const root = g.index([img]);
    const docs = new Map(g.documents);
    docs.delete(img.digest);
    expect(() => walkDocuments({ root, documents: docs, blobs: new Map() })).toThrow(
      expect.objectContaining({ code: 'IMG_DOCUMENT_MISSING', message: expect.stringContaining(img.digest) }),
    );
    expect(() => walkDocuments(g.graph({ ...root, size: root.size + 1 }))).toThrow(/descriptor size/);
    expect(() => walkDocuments(g.graph({ ...root, mediaType: MediaType.DockerManifestList }))).toThrow(
      /descriptor says .* but the document says application\/vnd\.oci\.image\.index/,
    );
  });

  it('select the image of a platform, the only one whatever its platform', () => {
    const g = new Graph();
    const amd = g.image('amd64', []);
    const arm = g.image('arm', []);
    const both = g.graph(g.index([amd, arm]));
    expect(selectImage(both, { os: 'linux', architecture: 'arm', variant: 'v7' })?.descriptor.digest).toBe(
      arm.digest,
    );
    expect(selectImage(both, { os: 'linux', architecture: 's390x' })).toBeUndefined();
    const single = g.graph(amd);
    expect(selectImage(single, { os: 'linux', architecture: 's390x' })?.descriptor.digest).toBe(amd.digest);
    expect(bestImage(listManifests(single), { os: 'linux', architecture: 's390x' })).toBeUndefined();
  });
});

describe('parseDocument: one rule set for every manifest and index', () => {
  const ok = (doc: unknown, mediaType: string) => {
    const bytes = Buffer.from(JSON.stringify(doc));
    return { bytes, descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length } };
  };
  const config = { mediaType: MediaType.OciConfig, digest: sha256Digest('c'), size: 1 };

  it('refuses a document that is both a manifest and an index (CVE-2021-41190)', () => {
    const { bytes, descriptor } = ok(
      { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [], manifests: [] },
      MediaType.OciManifest,
    );
    expect(() => parseDocument(bytes, descriptor, 'm')).toThrow(/m: has both "manifests" and "layers"/);
    const ix = ok({ schemaVersion: 2, manifests: [], config }, MediaType.OciIndex);
    expect(() => parseDocument(ix.bytes, ix.descriptor, 'i')).toThrow(/has both "manifests" and "config"/);
  });

  it('refuses a descriptor whose media type is not the document kind', () => {
    const { bytes, descriptor } = ok({ schemaVersion: 2, config, layers: [] }, MediaType.OciIndex);
    expect(() => parseDocument(bytes, descriptor, 'x')).toThrow(/media type .*index.* but no "manifests"/);
    expect(() => parseDocument(bytes, { ...descriptor, mediaType: 'text/plain' }, 'x')).toThrow(
      /neither a manifest nor an index/,
    );
  });

  it('refuses child digests that are not registered algorithms in lowercase hex', () => {
    for (const digest of [
      'sha256:../../../etc/passwd',
      `sha256:${'A'.repeat(64)}`,
      `md5:${'a'.repeat(32)}`,
      `sha256:${'a'.repeat(63)}`,
    ]) {
      const { bytes, descriptor } = ok(
        { schemaVersion: 2, config, layers: [{ mediaType: MediaType.OciLayerGzip, digest, size: 1 }] },
        MediaType.OciManifest,
      );
      expect(() => parseDocument(bytes, descriptor, 'm')).toThrow(
        expect.objectContaining({
          message: expect.stringContaining(`layers[0].digest: invalid digest "${digest}"`),
        }),
      );
    }
    const sha512 = `sha512:${'b'.repeat(128)}`;
    const { bytes, descriptor } = ok(
      { schemaVersion: 2, config, layers: [{ mediaType: MediaType.OciLayerGzip, digest: sha512, size: 1 }] },
      MediaType.OciManifest,
    );
    expect(parseDocument(bytes, descriptor, 'm').kind).toBe('manifest');
  });
});

describe('blob sources', () => {
  const d = layer('hello');
  const failing: BlobSource = { descriptor: d, open: async () => Promise.reject(new Error('gone')) };

  it('firstAvailableSource opens the first candidate that works, and honours an abort', async () => {
    const good = bytesBlobSource(d, Buffer.from('hello'));
    const first = firstAvailableSource(d, [failing, good]);
    expect((await buffer(await first.open({ offset: 1 }))).toString()).toBe('ello');
    await expect(firstAvailableSource(d, [failing, failing]).open()).rejects.toThrow('gone');
    const controller = new AbortController();
    controller.abort();
    let tried = 0;
    const counting: BlobSource = {
      descriptor: d,
      open: async () => {
        tried++;
        return Readable.from([]);
      },
    };
    await expect(
      firstAvailableSource(d, [failing, counting]).open({ signal: controller.signal }),
    ).rejects.toThrow('gone');
    expect(tried).toBe(0);
  });

  it('withRemoteBlobs fetches layers absent locally from their locations, verified', async () => {
    const g = new Graph();
    const content = Buffer.from('hello');
    const root = g.image('amd64', [d]);
    const locations = new Map([[d.digest, [{ registry: 'r.example', repository: 'base' }]]]);
    const asked: unknown[] = [];
    const remote = withRemoteBlobs({ ...g.graph(root), locations }, async (desc, where) => {
      asked.push([desc.digest, where]);
      return Readable.from([asked.length > 1 ? Buffer.from('HELLO') : content]);
    });
    expect((await buffer(await remote.blobs.get(d.digest)!.open())).toString()).toBe('hello');
    expect(asked).toEqual([[d.digest, locations.get(d.digest)]]);
    await expect(buffer(await remote.blobs.get(d.digest)!.open())).rejects.toMatchObject({
      code: 'IMG_DIGEST_MISMATCH',
    });
  });
});
