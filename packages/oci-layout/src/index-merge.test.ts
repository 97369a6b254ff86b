import type { Descriptor, Digest } from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import { mergeIndexEntries, mergeLayoutIndex } from './index-merge.js';

const d = (n: number, annotations?: Record<string, string>): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as Digest,
  size: n,
  ...(annotations ? { annotations } : {}),
});
const ref = (name: string) => ({ 'org.opencontainers.image.ref.name': name });

describe('mergeIndexEntries', () => {
  it('keeps other tags, replaces the same tag, keeps unnamed entries of other digests', () => {
    const v1 = d(1, ref('v1'));
    const unnamed = d(2);
    const v2old = d(3, ref('v2'));
    const v2new = d(4, ref('v2'));
    expect(mergeIndexEntries([v1, unnamed, v2old], [v2new])).toEqual([v1, unnamed, v2new]);
  });

  it('keeps a second tag of the same digest', () => {
    expect(mergeIndexEntries([d(1, ref('a'))], [d(1, ref('b'))])).toEqual([d(1, ref('a')), d(1, ref('b'))]);
  });

  it('collapses an unnamed entry of the same digest, and replaces by containerd image name', () => {
    expect(mergeIndexEntries([d(1)], [d(1)])).toEqual([d(1)]);
    const old = d(1, { 'io.containerd.image.name': 'x/y:1' });
    const neu = d(2, { 'io.containerd.image.name': 'x/y:1' });
    expect(mergeIndexEntries([old], [neu])).toEqual([neu]);
  });
});

describe('mergeLayoutIndex', () => {
  it('keeps the other fields of an existing index.json and names it when it is broken', () => {
    const existing = Buffer.from(
      JSON.stringify({ schemaVersion: 2, annotations: { a: 'b' }, manifests: [d(1, ref('v1'))] }),
    );
    const added = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [d(2, ref('v2'))] }));
    const merged = JSON.parse(mergeLayoutIndex(existing, added, '/l/index.json').toString());
    expect(merged.annotations).toEqual({ a: 'b' });
    expect(merged.manifests.map((m: Descriptor) => m.size)).toEqual([1, 2]);
    expect(() => mergeLayoutIndex(Buffer.from('{'), added, '/l/index.json')).toThrow(/\/l\/index\.json/);
  });
});
