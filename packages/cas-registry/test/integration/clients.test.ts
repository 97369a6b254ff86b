import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ciRequires,
  run,
  startContainerd,
  type TestContainerd,
  type TinyOciLayout,
  useTempDir,
  writeTinyOciLayout,
} from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, sha256, startTestServers } from '../helpers.js';

const registryClients = ciRequires('skopeo', 'crane');
const containerd = ciRequires('containerd', 'ctr', 'runc', 'busybox', { root: true });
const tmp = useTempDir('cas-registry-clients-');
const servers = await startTestServers();

let layout: TinyOciLayout;
let lostLayout: TinyOciLayout;
beforeAll(async () => {
  lostLayout = await writeTinyOciLayout(tmp.join('lost-layout'), {
    tag: 'v1',
    files: [{ name: 'gone.txt', content: 'this layer will be evicted\n' }],
  });
  // gzip layers (crane 0.20.7's validate cannot read zstd); a static busybox, so containerd can run it.
  const busybox = await readFile(containerd.paths.busybox ?? '/bin/busybox').catch(() =>
    Buffer.from('no busybox'),
  );
  layout = await writeTinyOciLayout(tmp.join('layout'), {
    tag: 'v1',
    files: [
      { name: 'busybox', content: busybox, mode: 0o755 },
      { name: 'message.txt', content: 'served by img registry\n' },
    ],
  });
});

async function indexDigest(dir: string): Promise<string> {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).manifests[0].digest;
}

for (const [store, server] of servers) {
  const t = server!;
  describe.skipIf(registryClients.skip || !server)(
    `skopeo and crane against img registry (${store} store)`,
    () => {
      it('skopeo copies an image in and back out byte for byte; crane validates, copies (mounting) and lists it', async () => {
        const ref = `${t.server.address}/clients/app:v1`;
        await run('skopeo', ['copy', '--dest-tls-verify=false', layout.reference, `docker://${ref}`]);
        const raw = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
        expect(sha256(raw.stdoutBytes)).toBe(layout.manifest.digest);
        await run('skopeo', [
          'copy',
          '--src-tls-verify=false',
          `docker://${ref}`,
          `oci:${tmp.join('back')}:v1`,
        ]);
        expect(await indexDigest(tmp.join('back'))).toBe(layout.manifest.digest);

        const validate = await run('crane', ['validate', '--insecure', '--remote', ref]);
        expect(validate.stdout + validate.stderr).toMatch(/PASS/);
        await run('crane', ['copy', '--insecure', ref, `${t.server.address}/clients/copy:v2`]);
        const copied = await run('crane', ['digest', '--insecure', `${t.server.address}/clients/copy:v2`]);
        expect(copied.stdout.trim()).toBe(layout.manifest.digest);
        await run('crane', ['pull', '--insecure', '--format', 'oci', ref, tmp.join('pulled')]);
        expect(
          (await run('crane', ['ls', '--insecure', `${t.server.address}/clients/app`])).stdout.trim(),
        ).toBe('v1');
        const catalog = (await run('crane', ['catalog', '--insecure', t.server.address])).stdout
          .trim()
          .split('\n');
        expect(catalog).toEqual(expect.arrayContaining(['clients/app', 'clients/copy']));
        const tags = await run('skopeo', [
          'list-tags',
          '--tls-verify=false',
          `docker://${t.server.address}/clients/copy`,
        ]);
        expect(JSON.parse(tags.stdout).Tags).toEqual(['v2']);
      });

      it('crane pushes a layout, then deletes the manifest', async () => {
        const ref = `${t.server.address}/clients/pushed:v1`;
        await run('crane', ['push', '--insecure', layout.dir, ref]);
        expect((await run('crane', ['digest', '--insecure', ref])).stdout.trim()).toBe(
          layout.manifest.digest,
        );
        await run('crane', [
          'delete',
          '--insecure',
          `${t.server.address}/clients/pushed@${layout.manifest.digest}`,
        ]);
        const gone = await run('crane', ['digest', '--insecure', ref], { allowFailure: true });
        expect(gone.code).not.toBe(0);
        expect(gone.stderr).toMatch(/MANIFEST_UNKNOWN/);
      });
    },
  );

  describe.skipIf(containerd.skip || !server)(`containerd pulls from img registry (${store} store)`, () => {
    let ctrd: TestContainerd;
    beforeAll(async () => {
      ctrd = await startContainerd();
    });
    afterAll(() => ctrd?.stop());

    it('ctr pull --plain-http fetches the image, and ctr run runs it', async () => {
      const ref = `${t.server.address}/clients/ctr:v1`;
      await run('skopeo', ['copy', '--dest-tls-verify=false', layout.reference, `docker://${ref}`]);
      const ns = ctrd.newNamespace('pull');
      await ctrd.ctr(['images', 'pull', '--plain-http', ref], { namespace: ns });
      const check = await ctrd.ctr(['images', 'check'], { namespace: ns });
      expect(check.stdout).toMatch(/complete \(2\/2\)/);
      const out = await ctrd.ctr(['run', '--rm', ref, `t-${ns}`, '/busybox', 'cat', '/message.txt'], {
        namespace: ns,
      });
      expect(out.stdout.trim()).toBe('served by img registry');
    });
  });

  if (store === 'cas') {
    describe.skipIf(registryClients.skip || !server)('a blob BuildGrid lost', () => {
      it('makes crane and skopeo pulls of the image fail with BLOB_UNKNOWN; the tag still resolves', async () => {
        const ref = `${t.server.address}/clients/lost:v1`;
        await run('skopeo', ['copy', '--dest-tls-verify=false', lostLayout.reference, `docker://${ref}`]);
        const layer = lostLayout.layer.digest;
        await rm(t.buildGrid!.blobPath(layer.slice('sha256:'.length)));
        const res = await fetch(`http://${t.server.address}/v2/clients/lost/blobs/${layer}`);
        expect([res.status, await errorCode(res)]).toEqual([404, 'BLOB_UNKNOWN']);
        const crane = await run('crane', ['pull', '--insecure', ref, tmp.join('lost.tar')], {
          allowFailure: true,
        });
        expect(crane.code).not.toBe(0);
        expect(crane.stderr).toMatch(/BLOB_UNKNOWN/);
        const skopeo = await run(
          'skopeo',
          ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${tmp.join('lost-oci')}:v1`],
          { allowFailure: true },
        );
        expect(skopeo.code).not.toBe(0);
        expect(skopeo.stderr).toMatch(/reading blob sha256:[0-9a-f]{64}.*404/); // skopeo names the status only
        expect((await run('crane', ['digest', '--insecure', ref])).stdout.trim()).toBe(
          lostLayout.manifest.digest,
        );
      });
    });
  }
}
