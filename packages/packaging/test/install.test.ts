import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ciRequires, run } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack, publishedPackages, REPO_ROOT } from './tarballs.js';

const tools = ciRequires('pnpm', 'npm');
const npmQuiet = ['--no-audit', '--no-fund', '--loglevel=error'];
let dir = '';
const tarballs: Record<string, string> = {};

/** An empty project folder, as a user has before `npm install`. */
async function emptyProject(name: string): Promise<string> {
  const project = join(dir, name);
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name, private: true }));
  return project;
}

describe.skipIf(tools.skip)('installing the packed tarballs with plain npm', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'img-install-'));
    const packs = join(dir, 'tarballs');
    await mkdir(packs);
    for (const pkg of await publishedPackages()) tarballs[pkg.name] = await pack(pkg, packs);
  }, 300_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('npx img build works from the CLI tarball alone, offline, with an empty npm cache', async () => {
    const project = await emptyProject('cli-only');
    // an empty cache and --offline: nothing may come from a registry, so the tarball must be complete
    const env = { ...process.env, npm_config_cache: join(dir, 'empty-npm-cache') };
    await run('npm', ['install', '--offline', ...npmQuiet, tarballs['@img/cli']!], { cwd: project, env });
    expect(await readdir(join(project, 'node_modules'))).toEqual(['.bin', '.package-lock.json', '@img']);
    expect(await readdir(join(project, 'node_modules', '@img'))).toEqual(['cli']);

    await cp(join(REPO_ROOT, 'examples', 'hello'), join(project, 'hello'), {
      recursive: true,
      filter: (src) => !src.endsWith('/out'),
    });
    const npx = (args: string[]) =>
      run('npx', ['--offline', '--no', '--', ...args], { cwd: project, env, allowFailure: true });
    const built = await npx(['img', 'build', 'hello/image.json', '--output', 'oci:out']);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/^oci:out@sha256:[0-9a-f]{64}$/m);
    const multi = await npx(['img', 'build', 'hello/image-multi.json', '--output', 'oci-archive:multi.tar']);
    expect(multi.code, multi.stderr).toBe(0);
    const valid = await npx(['img', 'validate', 'oci:out']);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toMatch(/^PASS /);
  });

  it('every library tarball installs together and loads as ESM and as CommonJS', async () => {
    const project = await emptyProject('all');
    // third-party dependencies (undici, ajv, grpc...) come from the registry or npm's cache
    await run('npm', ['install', '--prefer-offline', ...npmQuiet, ...Object.values(tarballs)], {
      cwd: project,
      timeoutMs: 300_000,
    });
    for (const name of Object.keys(tarballs).filter((n) => n !== '@img/cli')) {
      const esm = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import('${name}'); console.log(Object.keys(m).length)`,
        ],
        { cwd: project },
      );
      expect(Number(esm.stdout), name).toBeGreaterThan(0);
      const cjs = await run(process.execPath, ['-e', `console.log(Object.keys(require('${name}')).length)`], {
        cwd: project,
      });
      expect(Number(cjs.stdout), name).toBe(Number(esm.stdout));
    }
    const version = await run('npx', ['--no', '--', 'img', '--version'], { cwd: project });
    const cli = (await publishedPackages()).find((p) => p.name === '@img/cli')!;
    expect(version.stdout.trim()).toBe(cli.manifest.version);
  });
});
