import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RegistryServer, startRegistryServer } from '@img/cas-registry';
import { ciRequires, run, startRegistry, type TestRegistry, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImg } from '../bin.js';
import { EXAMPLE_DIR } from '../helpers.js';

const tools = ciRequires('docker-registry', 'crane', 'oras');
const tmp = useTempDir('img-cli-copy-');

/** The referrers `oras discover` lists for a reference (it falls back to the tag schema itself). */
async function orasReferrers(ref: string): Promise<string[]> {
  const { stdout } = await run('oras', ['discover', '--plain-http', '--format', 'json', ref]);
  const doc = JSON.parse(stdout) as { referrers?: { digest: string }[]; manifests?: { digest: string }[] };
  return (doc.referrers ?? doc.manifests ?? []).map((r) => r.digest).sort();
}

async function craneValidate(ref: string): Promise<string> {
  const r = await run('crane', ['validate', '--insecure', '--remote', ref]);
  return r.stdout + r.stderr;
}

async function imgJson(...args: string[]): Promise<Record<string, unknown>> {
  const r = await runImg([...args, '--json'], { IMG_CACHE_DIR: tmp.join('cache') });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe.skipIf(tools.skip)(
  'img copy: a 2-platform index with its referrers, across repositories and registries',
  () => {
    let cas: RegistryServer;
    let distribution: TestRegistry;
    beforeAll(async () => {
      cas = await startRegistryServer({ storage: tmp.join('cas') });
      distribution = await startRegistry({ auth: 'none' });
    });
    afterAll(async () => {
      await cas?.close();
      await distribution?.stop();
    });

    it('copies the index, both platforms and an SBOM attached with oras; crane and oras agree on both sides', async () => {
      const src = `${cas.address}/src/app:1`;
      const built = await imgJson('build', join(EXAMPLE_DIR, 'image-multi.json'), '--push', src);
      const index = built.digest as string;
      // An SBOM on the index and a signature-like artifact on the SBOM (a referrer of a referrer).
      const sbom = tmp.join('sbom.spdx.json');
      await writeFile(sbom, JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'app' }));
      await run(
        'oras',
        [
          'attach',
          '--plain-http',
          '--artifact-type',
          'application/spdx+json',
          `${src}`,
          `sbom.spdx.json:application/spdx+json`,
        ],
        { cwd: tmp.path },
      );
      const [sbomDigest] = await orasReferrers(`${cas.address}/src/app@${index}`);
      expect(sbomDigest).toMatch(/^sha256:/);
      const sig = tmp.join('sig.txt');
      await writeFile(sig, 'signature');
      await run(
        'oras',
        [
          'attach',
          '--plain-http',
          '--artifact-type',
          'application/vnd.example.sig',
          `${cas.address}/src/app@${sbomDigest}`,
          `sig.txt:text/plain`,
        ],
        { cwd: tmp.path },
      );
      const sourceReferrers = await orasReferrers(`${cas.address}/src/app@${index}`);
      const sourceSigs = await orasReferrers(`${cas.address}/src/app@${sbomDigest}`);
      expect(sourceSigs).toHaveLength(1);

      // Same registry, another repository: layers mounted, referrers through the registry's API.
      const same = await imgJson('copy', src, `${cas.address}/dst/app`);
      expect(same.digest).toBe(index);
      expect(same.references).toEqual([`${cas.address}/dst/app:1@${index}`]);
      expect(same.blobsMounted).toBeGreaterThanOrEqual(1);
      expect(same.blobsUploaded).toBe(0); // layers and configs mounted from src/app, where img pushed them
      expect(
        (same.referrers as { digest: string; listedVia: string }[]).map((r) => [r.digest, r.listedVia]),
      ).toEqual([
        [sbomDigest, 'api'],
        [sourceSigs[0], 'api'],
      ]);

      // Another registry (Debian's distribution 2.8: no referrers API): streamed, referrers tag schema.
      const other = `${distribution.url}/copy/app:1`;
      const across = await imgJson('copy', src, other, '--image-refs', tmp.join('refs.txt'));
      expect(across.digest).toBe(index);
      expect(across.blobsUploaded).toBeGreaterThanOrEqual(3);
      expect(await readFile(tmp.join('refs.txt'), 'utf8')).toBe(`${other}@${index}\n`);
      expect((across.referrers as { listedVia: string }[]).every((r) => r.listedVia === 'tag')).toBe(true);
      const tags = JSON.parse((await runImg(['ls', `${distribution.url}/copy/app`, '--json'])).stdout).tags;
      expect(tags).toContain(`sha256-${index.slice(7)}`);

      for (const [registry, repo] of [
        [cas.address, 'src/app'],
        [cas.address, 'dst/app'],
        [distribution.url, 'copy/app'],
      ] as const) {
        expect(await craneValidate(`${registry}/${repo}:1`)).toMatch(/PASS/);
        expect(await orasReferrers(`${registry}/${repo}@${index}`)).toEqual(sourceReferrers);
        expect(await orasReferrers(`${registry}/${repo}@${sbomDigest}`)).toEqual(sourceSigs);
      }
    });
  },
);
