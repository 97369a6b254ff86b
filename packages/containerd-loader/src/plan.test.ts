import { buildImage, buildIndex } from '@img/image-assembly';
import { type Digest, type ImageGraph, type LayerMetadata, MediaType, sha256Digest } from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import { GC_REF_CONFIG, planLoad } from './plan.js';

function layer(text: string): LayerMetadata {
  return {
    mediaType: MediaType.OciLayerGzip,
    digest: sha256Digest(text),
    size: text.length,
    diff_id: sha256Digest(`d${text}`),
  };
}

function multi(): {
  content: ImageGraph;
  amd: ReturnType<typeof buildImage>;
  arm: ReturnType<typeof buildImage>;
} {
  const shared = layer('shared');
  const amd = buildImage({
    platform: { os: 'linux', architecture: 'amd64' },
    layers: [shared, layer('amd')],
  });
  const arm = buildImage({
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    layers: [shared, layer('arm')],
  });
  const index = buildIndex([amd.descriptor, arm.descriptor]);
  const documents = new Map<Digest, Uint8Array>();
  for (const i of [amd, arm]) {
    documents.set(i.manifest.config.digest, i.configBytes);
    documents.set(i.descriptor.digest, i.manifestBytes);
  }
  documents.set(index.descriptor.digest, index.indexBytes);
  return { content: { root: index.descriptor, documents, blobs: new Map() }, amd, arm };
}

describe('planLoad', () => {
  it('selects the best platform of an index and labels only what it loads', () => {
    const { content, arm } = multi();
    const plan = planLoad(content, { os: 'linux', architecture: 'arm64' });
    expect(plan.manifests.map((m) => m.digest)).toEqual([arm.descriptor.digest]);
    expect(plan.layers.map((l) => l.descriptor.digest)).toEqual(arm.manifest.layers.map((l) => l.digest));
    expect(plan.documents.map((d) => d.kind)).toEqual(['config', 'manifest', 'index']);
    expect(plan.documents[1]!.labels).toEqual({
      [GC_REF_CONFIG]: arm.manifest.config.digest,
      'containerd.io/gc.ref.content.l.0': arm.manifest.layers[0]!.digest,
      'containerd.io/gc.ref.content.l.1': arm.manifest.layers[1]!.digest,
    });
    expect(plan.documents[2]!.labels).toEqual({ 'containerd.io/gc.ref.content.m.1': arm.descriptor.digest });
  });

  it('loads every platform with "all", each shared layer once, children before parents', () => {
    const { content, amd, arm } = multi();
    const plan = planLoad(content, 'all');
    expect(plan.layers).toHaveLength(3);
    expect(plan.documents.map((d) => d.descriptor.digest)).toEqual([
      amd.manifest.config.digest,
      amd.descriptor.digest,
      arm.manifest.config.digest,
      arm.descriptor.digest,
      content.root.digest,
    ]);
  });

  it('fails when no image matches, and when a document is missing', () => {
    const { content, amd } = multi();
    expect(() => planLoad(content, { os: 'windows', architecture: 'amd64' })).toThrow(
      /no image for platform windows\/amd64/,
    );
    const docs = new Map(content.documents);
    docs.delete(amd.manifest.config.digest);
    expect(() => planLoad({ ...content, documents: docs }, 'all')).toThrow(
      new RegExp(`config ${amd.manifest.config.digest} is missing`),
    );
  });
});
