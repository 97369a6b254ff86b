import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, run, startRegistry, type TestRegistry, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BinRun, IMG_BIN, runImg } from '../bin.js';
import { EXAMPLE_DIR } from '../helpers.js';

const tools = ciRequires('docker-registry', 'crane', 'skopeo', 'htpasswd');
const tmp = useTempDir('img-cli-verbs-');

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { IMG_CACHE_DIR: tmp.join('cache'), DOCKER_CONFIG: tmp.join('docker'), ...extra };
}

async function ok(...args: string[]): Promise<BinRun> {
  const r = await runImg(args, env());
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** `img ARGS` with `input` on stdin (what `echo pw | img login --password-stdin` does). */
function withStdin(args: string[], input: string, extra: NodeJS.ProcessEnv = {}): Promise<BinRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [IMG_BIN, ...args], { env: { ...process.env, ...env(extra) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(input);
  });
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe.skipIf(tools.skip)('registry verbs against Debian distribution', () => {
  let registry: TestRegistry;
  let index: string;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
    await mkdir(tmp.join('docker'), { recursive: true });
  });
  afterAll(() => registry?.stop());

  it('login checks the password, writes the Docker config as docker does; logout removes it', async () => {
    const { username, password } = registry.auth;
    const wrong = await withStdin(['login', registry.url, '-u', username, '--password-stdin'], 'nope\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/401|unauthorized|denied/i);
    await expect(stat(tmp.join('docker/config.json'))).rejects.toThrow();
    // The password never on the command line: without --password-stdin, a usage error.
    const noStdin = await runImg(['login', registry.url, '-u', username], env());
    expect(noStdin.code).toBe(2);

    await writeFile(tmp.join('docker/config.json'), JSON.stringify({ auths: {}, psFormat: 'table' }));
    const login = await withStdin(
      ['login', registry.url, '-u', username, '--password-stdin'],
      `${password}\n`,
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toBe('Login Succeeded\n');
    const config = JSON.parse(await readFile(tmp.join('docker/config.json'), 'utf8'));
    expect(config.psFormat).toBe('table');
    expect(Buffer.from(config.auths[registry.url].auth, 'base64').toString()).toBe(`${username}:${password}`);
    expect((await stat(tmp.join('docker/config.json'))).mode & 0o777).toBe(0o600);
    expect(login.stderr + login.stdout).not.toContain(password);

    // img and crane both push with the saved login.
    const built = JSON.parse(
      (
        await ok(
          'build',
          join(EXAMPLE_DIR, 'image-multi.json'),
          '--push',
          `${registry.url}/verbs/app:1`,
          '--json',
        )
      ).stdout,
    );
    index = built.digest;
    await run('crane', ['digest', '--insecure', `${registry.url}/verbs/app:1`], {
      env: { DOCKER_CONFIG: tmp.join('docker') },
    });
  });

  it('ls, digest, manifest, config and tag agree with crane', async () => {
    const craneEnv = { env: { DOCKER_CONFIG: tmp.join('docker') } };
    const ref = `${registry.url}/verbs/app:1`;
    expect((await ok('digest', ref)).stdout).toBe(`${index}\n`);
    const raw = await runImg(['manifest', ref], env());
    expect(raw.code, raw.stderr).toBe(0);
    expect(sha256(raw.stdout)).toBe(index); // exact bytes
    expect(raw.stdout).toBe((await run('crane', ['manifest', '--insecure', ref], craneEnv)).stdout);
    const arm = (await ok('digest', ref, '--platform', 'linux/arm64')).stdout.trim();
    expect(arm).toBe(
      (
        await run('crane', ['digest', '--insecure', '--platform', 'linux/arm64', ref], craneEnv)
      ).stdout.trim(),
    );
    const config = (await ok('config', ref, '--platform', 'linux/arm64')).stdout;
    expect(config).toBe(
      (await run('crane', ['config', '--insecure', '--platform', 'linux/arm64', ref], craneEnv)).stdout,
    );
    expect(
      JSON.parse((await ok('config', ref, '--platform', 'linux/arm64', '--json')).stdout).architecture,
    ).toBe('arm64');

    const tagged = await ok('tag', ref, 'stable');
    expect(tagged.stdout).toBe(`${registry.url}/verbs/app:stable@${index}\n`);
    expect((await ok('ls', `${registry.url}/verbs/app`)).stdout.split('\n').filter(Boolean).sort()).toEqual([
      '1',
      'stable',
    ]);
    expect(JSON.parse((await ok('ls', `${registry.url}/verbs/app`, '--full-ref', '--json')).stdout)).toEqual({
      repository: `${registry.url}/verbs/app`,
      tags: expect.arrayContaining(['1', 'stable']),
    });
    const crane = (await run('crane', ['ls', '--insecure', `${registry.url}/verbs/app`], craneEnv)).stdout;
    expect(crane.split('\n').filter(Boolean).sort()).toEqual(['1', 'stable']);
  });

  it('catalog lists repositories; delete removes a manifest and says how when a tag cannot be deleted', async () => {
    const catalog = JSON.parse((await ok('catalog', registry.url, '--json')).stdout);
    expect(catalog.repositories).toContain('verbs/app');
    await ok('copy', `${registry.url}/verbs/app:1`, `${registry.url}/verbs/gone:1`);
    const byTag = await runImg(['delete', `${registry.url}/verbs/gone:1`], env());
    expect(byTag.code).toBe(1);
    expect(byTag.stderr).toContain(`img delete ${registry.url}/verbs/gone@${index}`);
    await ok('delete', `${registry.url}/verbs/gone@${index}`);
    const after = await runImg(['digest', `${registry.url}/verbs/gone:1`, '--json'], env());
    expect(after.code).toBe(1);
    expect(JSON.parse(after.stdout).error.code).toBe('IMG_REGISTRY_NOT_FOUND');
  });

  it('inspect and validate read a registry image and a docker-save archive', async () => {
    const ref = `${registry.url}/verbs/app:1`;
    const remote = JSON.parse((await ok('validate', ref, '--json')).stdout);
    expect(remote).toMatchObject({ images: 2, layersChecked: 1, layersMissing: 0 });
    // A docker-save archive in Docker's classic format (skopeo: uncompressed layers, no oci-layout).
    const archive = tmp.join('app-docker.tar');
    await run('skopeo', [
      'copy',
      '--src-tls-verify=false',
      '--override-arch',
      'arm64',
      '--src-creds',
      registry.auth.creds,
      `docker://${ref}`,
      `docker-archive:${archive}:verbs/app:1`,
    ]);
    const inspected = JSON.parse((await ok('inspect', archive, '--json')).stdout);
    expect(inspected.kind).toBe('docker-archive');
    expect(inspected.repoTags).toEqual(['docker.io/verbs/app:1']); // skopeo names it so
    expect(inspected.images[0].platform).toMatch(/^linux\/arm64/);
    const report = JSON.parse((await ok('validate', `docker-archive:${archive}`, '--json')).stdout);
    expect(report).toMatchObject({ images: 1, layersChecked: 1 });
    // ... and copies to a registry like any other source (layers as stored: uncompressed tars).
    await ok('copy', `docker-archive:${archive}`, `${registry.url}/verbs/from-archive:1`);
    expect(
      JSON.parse((await ok('validate', `${registry.url}/verbs/from-archive:1`, '--json')).stdout),
    ).toMatchObject({
      images: 1,
      layersChecked: 1,
    });
    // skopeo reads it back (it checks every digest on the way).
    await run('skopeo', [
      'copy',
      '--src-tls-verify=false',
      '--src-creds',
      registry.auth.creds,
      `docker://${registry.url}/verbs/from-archive:1`,
      `oci:${tmp.join('back')}:x`,
    ]);
  });

  it('logout removes the saved login, after which the registry refuses img', async () => {
    const out = await ok('logout', registry.url);
    expect(out.stdout).toBe(`Removing login credentials for ${registry.url}\n`);
    expect(JSON.parse(await readFile(tmp.join('docker/config.json'), 'utf8')).auths).toEqual({});
    const refused = await runImg(['ls', `${registry.url}/verbs/app`, '--json'], env());
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe('IMG_REGISTRY_UNAUTHORIZED');
  });
});
