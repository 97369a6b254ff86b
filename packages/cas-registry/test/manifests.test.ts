import { describe, expect, it } from 'vitest';
import {
  errorCode,
  pushBlob,
  pushImageBlobs,
  putManifest,
  sha256,
  sha512,
  startTestServer,
} from './helpers.js';

const t = await startTestServer({ maxManifestBytes: 64 * 1024 });
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

describe('manifests', () => {
  it('stores the exact bytes by tag and digest and serves them with their media type and digest', async () => {
    const img = await pushImageBlobs(t.base, 'm/app', ['layer one']);
    // Exact bytes: odd whitespace must survive.
    const bytes = Buffer.from(`${img.manifest.toString()}  \n`);
    const put = await putManifest(t.base, 'm/app', 'v1', bytes);
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(sha256(bytes));
    expect(put.headers.get('location')).toBe(`/v2/m/app/manifests/${sha256(bytes)}`);
    for (const ref of ['v1', sha256(bytes)]) {
      const get = await fetch(`${t.base}/v2/m/app/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } });
      expect(get.status).toBe(200);
      expect(get.headers.get('content-type')).toBe(OCI_MANIFEST);
      expect(get.headers.get('docker-content-digest')).toBe(sha256(bytes));
      expect(Buffer.from(await get.arrayBuffer()).equals(bytes)).toBe(true);
    }
    // A client that lists manifest types but not this one gets a 404, as from Docker's registry.
    const docker = await fetch(`${t.base}/v2/m/app/manifests/v1`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect([docker.status, await errorCode(docker)]).toEqual([404, 'MANIFEST_UNKNOWN']);
    const missing = await fetch(`${t.base}/v2/m/nothing/manifests/v1`);
    expect([missing.status, await errorCode(missing)]).toEqual([404, 'NAME_UNKNOWN']);
  });

  it('refuses manifests that reference blobs or manifests the registry lacks, or the wrong sizes', async () => {
    const img = await pushImageBlobs(t.base, 'm/check', ['present']);
    const doc = JSON.parse(img.manifest.toString());
    const missingLayer = {
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: sha256('absent'),
      size: 6,
    };
    let res = await putManifest(
      t.base,
      'm/check',
      'x',
      Buffer.from(JSON.stringify({ ...doc, layers: [missingLayer] })),
    );
    expect([res.status, await errorCode(res)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
    res = await putManifest(
      t.base,
      'm/check',
      'x',
      Buffer.from(JSON.stringify({ ...doc, layers: [{ ...doc.layers[0], size: 999 }] })),
    );
    expect([res.status, await errorCode(res)]).toEqual([400, 'MANIFEST_INVALID']);
    // Non-distributable layers live elsewhere: they need not (cannot) be pushed.
    const foreign = {
      mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
      digest: sha256('foreign'),
      size: 7,
      urls: ['https://example.com/foreign'],
    };
    res = await putManifest(
      t.base,
      'm/check',
      'foreign',
      Buffer.from(JSON.stringify({ ...doc, layers: [...doc.layers, foreign] })),
    );
    expect(res.status).toBe(201);
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('no such manifest'), size: 10 }],
    };
    res = await putManifest(t.base, 'm/check', 'idx', Buffer.from(JSON.stringify(index)), OCI_INDEX);
    expect([res.status, await errorCode(res)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
  });

  it('refuses malformed manifests with MANIFEST_INVALID, digest mismatches with DIGEST_INVALID, big ones with 413', async () => {
    const img = await pushImageBlobs(t.base, 'm/bad', ['x']);
    const cases: Array<[Buffer, string, string]> = [
      [Buffer.from('{not json'), OCI_MANIFEST, 'MANIFEST_INVALID'],
      [Buffer.from('[]'), OCI_MANIFEST, 'MANIFEST_INVALID'],
      [img.manifest, OCI_INDEX, 'MANIFEST_INVALID'], // mediaType field and Content-Type disagree
      [
        Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] })),
        'application/vnd.docker.distribution.manifest.v1+json',
        'MANIFEST_INVALID',
      ],
      [
        Buffer.from(JSON.stringify({ ...JSON.parse(img.manifest.toString()), config: { digest: 'nope' } })),
        OCI_MANIFEST,
        'MANIFEST_INVALID',
      ],
    ];
    for (const [body, type, code] of cases) {
      const res = await putManifest(t.base, 'm/bad', 'x', body, type);
      expect([res.status, await errorCode(res)], body.toString().slice(0, 60)).toEqual([400, code]);
    }
    const wrongDigest = await putManifest(t.base, 'm/bad', sha256('something else'), img.manifest);
    expect([wrongDigest.status, await errorCode(wrongDigest)]).toEqual([400, 'DIGEST_INVALID']);
    const big = Buffer.from(
      JSON.stringify({ ...JSON.parse(img.manifest.toString()), annotations: { a: 'x'.repeat(70_000) } }),
    );
    expect((await putManifest(t.base, 'm/bad', 'big', big)).status).toBe(413);
    const tags = (await (await fetch(`${t.base}/v2/m/bad/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual([]);
  });

  it('pushes by sha512 digest and with tag parameters (OCI-Tag)', async () => {
    const img = await pushImageBlobs(t.base, 'm/tags', ['t']);
    const res = await putManifest(t.base, 'm/tags', `${sha512(img.manifest)}?tag=a&tag=b`, img.manifest);
    expect(res.status).toBe(201);
    expect(res.headers.get('docker-content-digest')).toBe(sha512(img.manifest));
    expect(res.headers.get('oci-tag')).toBe('a, b');
    const byTag = await fetch(`${t.base}/v2/m/tags/manifests/b`);
    expect(byTag.headers.get('docker-content-digest')).toBe(sha512(img.manifest));
    const badTag = await putManifest(t.base, 'm/tags', `${sha256(img.manifest)}?tag=-bad`, img.manifest);
    expect([badTag.status, await errorCode(badTag)]).toEqual([400, 'MANIFEST_INVALID']);
  });

  it('an index needs its manifests in the same repository', async () => {
    const img = await pushImageBlobs(t.base, 'm/index', ['amd64 layer']);
    await putManifest(t.base, 'm/index', img.digest, img.manifest);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            digest: img.digest,
            size: img.manifest.length,
            platform: { os: 'linux', architecture: 'amd64' },
          },
        ],
      }),
    );
    expect((await putManifest(t.base, 'm/index', 'multi', index, OCI_INDEX)).status).toBe(201);
    const elsewhere = await putManifest(t.base, 'm/other', 'multi', index, OCI_INDEX);
    expect([elsewhere.status, await errorCode(elsewhere)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
  });

  it('deletes tags alone, and manifests with every tag naming them', async () => {
    const img = await pushImageBlobs(t.base, 'm/del', ['d']);
    await putManifest(t.base, 'm/del', 'one', img.manifest);
    await putManifest(t.base, 'm/del', 'two', img.manifest);
    expect((await fetch(`${t.base}/v2/m/del/manifests/one`, { method: 'DELETE' })).status).toBe(202);
    expect((await fetch(`${t.base}/v2/m/del/manifests/one`)).status).toBe(404);
    expect((await fetch(`${t.base}/v2/m/del/manifests/${img.digest}`)).status).toBe(200);
    expect((await fetch(`${t.base}/v2/m/del/manifests/${img.digest}`, { method: 'DELETE' })).status).toBe(
      202,
    );
    expect((await fetch(`${t.base}/v2/m/del/manifests/two`, { method: 'HEAD' })).status).toBe(404);
    const again = await fetch(`${t.base}/v2/m/del/manifests/${img.digest}`, { method: 'DELETE' });
    expect([again.status, await errorCode(again)]).toEqual([404, 'MANIFEST_UNKNOWN']);
    // The blobs stay linked: a later push of the same image needs no upload.
    expect((await putManifest(t.base, 'm/del', 'three', img.manifest)).status).toBe(201);
  });

  it('references blobs the store holds even when this repository never received them (the CAS case)', async () => {
    const layer = await pushBlob(t.base, 'm/elsewhere', 'shared layer');
    const config = await pushBlob(
      t.base,
      'm/elsewhere',
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: config.digest,
          size: config.size,
        },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size },
        ],
      }),
    );
    expect((await putManifest(t.base, 'm/fresh', 'v1', manifest)).status).toBe(201);
    expect(await (await fetch(`${t.base}/v2/m/fresh/blobs/${layer.digest}`)).text()).toBe('shared layer');
  });
});
