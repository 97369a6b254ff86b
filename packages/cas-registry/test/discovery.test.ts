import { describe, expect, it } from 'vitest';
import { pushImageBlobs, putManifest, sha256, startTestServer } from './helpers.js';

const t = await startTestServer({ maxPageSize: 3 });
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('content discovery', () => {
  it('lists tags in ASCII order, n/last pages with a Link to the next page, the page size capped', async () => {
    const img = await pushImageBlobs(t.base, 'd/tags', ['x']);
    for (const tag of ['b', 'a', 'C', 'c', 'd']) await putManifest(t.base, 'd/tags', tag, img.manifest);
    const list = async (query: string) => {
      const res = await fetch(`${t.base}/v2/d/tags/tags/list${query}`);
      return { tags: ((await res.json()) as { tags: string[] }).tags, link: res.headers.get('link') };
    };
    expect(await list('?n=2')).toEqual({
      tags: ['C', 'a'],
      link: '</v2/d/tags/tags/list?n=2&last=a>; rel="next"',
    });
    expect(await list('?n=2&last=a')).toEqual({
      tags: ['b', 'c'],
      link: '</v2/d/tags/tags/list?n=2&last=c>; rel="next"',
    });
    expect(await list('?n=2&last=c')).toEqual({ tags: ['d'], link: null });
    expect(await list('?last=b')).toEqual({ tags: ['c', 'd'], link: null });
    expect(await list('?n=0')).toEqual({ tags: [], link: null });
    // No n, or more than the cap: a full page of the cap and a Link.
    expect(await list('')).toEqual({
      tags: ['C', 'a', 'b'],
      link: '</v2/d/tags/tags/list?n=3&last=b>; rel="next"',
    });
    expect((await list('?n=100')).tags).toHaveLength(3);
    expect((await fetch(`${t.base}/v2/d/none/tags/list`)).status).toBe(404);
  });

  it('lists repositories in the catalog', async () => {
    const img = await pushImageBlobs(t.base, 'd/cat/one', ['x']);
    await putManifest(t.base, 'd/cat/one', 'v1', img.manifest);
    await pushImageBlobs(t.base, 'd/cat/one/nested', ['y']);
    const res = await fetch(`${t.base}/v2/_catalog?n=100`);
    const { repositories } = (await res.json()) as { repositories: string[] };
    expect(repositories.filter((r) => r.startsWith('d/cat'))).toEqual(['d/cat/one', 'd/cat/one/nested']);
  });

  it('lists referrers of a subject (filtered by artifactType), and answers OCI-Subject when pushing one', async () => {
    const subject = await pushImageBlobs(t.base, 'd/ref', ['subject layer']);
    const subjectDescriptor = {
      mediaType: OCI_MANIFEST,
      digest: subject.digest,
      size: subject.manifest.length,
    };
    const referrer = async (artifactType: string, payload: string) => {
      const img = await pushImageBlobs(t.base, 'd/ref', [payload], {
        artifactType,
        subject: subjectDescriptor,
        annotations: { 'org.example.kind': artifactType },
      });
      const res = await putManifest(t.base, 'd/ref', img.digest, img.manifest);
      expect(res.status).toBe(201);
      expect(res.headers.get('oci-subject')).toBe(subject.digest);
      return img;
    };
    // Referrers may be pushed before their subject.
    const sig = await referrer('application/vnd.example.signature', 'sig');
    const sbom = await referrer('application/vnd.example.sbom', 'sbom');
    await putManifest(t.base, 'd/ref', 'v1', subject.manifest);

    const all = await fetch(`${t.base}/v2/d/ref/referrers/${subject.digest}`);
    expect(all.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    const index = (await all.json()) as { schemaVersion: number; manifests: Array<Record<string, unknown>> };
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests).toHaveLength(2);
    expect(index.manifests).toContainEqual({
      mediaType: OCI_MANIFEST,
      digest: sig.digest,
      size: sig.manifest.length,
      artifactType: 'application/vnd.example.signature',
      annotations: { 'org.example.kind': 'application/vnd.example.signature' },
    });
    const filtered = await fetch(
      `${t.base}/v2/d/ref/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`,
    );
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(
      ((await filtered.json()) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest),
    ).toEqual([sbom.digest]);
    // Deleting a referrer removes it from the list; unknown subjects and repositories list nothing.
    await fetch(`${t.base}/v2/d/ref/manifests/${sbom.digest}`, { method: 'DELETE' });
    const after = (await (await fetch(`${t.base}/v2/d/ref/referrers/${subject.digest}`)).json()) as {
      manifests: unknown[];
    };
    expect(after.manifests).toHaveLength(1);
    for (const url of [`/v2/d/ref/referrers/${sha256('x')}`, `/v2/d/nowhere/referrers/${sha256('x')}`]) {
      const res = await fetch(`${t.base}${url}`);
      expect([res.status, ((await res.json()) as { manifests: unknown[] }).manifests]).toEqual([200, []]);
    }
    expect((await fetch(`${t.base}/v2/d/ref/referrers/sha256:nothex`)).status).toBe(400);
  });
});
