import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '@img/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { publishedPackages, REPO_ROOT, workspacePackages } from './tarballs.js';

const changesetBin = createRequire(join(REPO_ROOT, 'package.json')).resolve('@changesets/cli/bin.js');
let dir = '';

describe('changesets', () => {
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('`changeset version` (on a copy of the workspace) writes a CHANGELOG per published package', async () => {
    dir = await mkdtemp(join(tmpdir(), 'img-changeset-'));
    for (const f of ['package.json', 'pnpm-workspace.yaml']) await cp(join(REPO_ROOT, f), join(dir, f));
    await cp(join(REPO_ROOT, '.changeset'), join(dir, '.changeset'), { recursive: true });
    const packages = await workspacePackages();
    for (const pkg of packages) {
      const rel = pkg.dir.slice(REPO_ROOT.length + 1);
      await mkdir(join(dir, rel), { recursive: true });
      await cp(join(pkg.dir, 'package.json'), join(dir, rel, 'package.json'));
    }
    const pending = (await readdir(join(dir, '.changeset'))).filter(
      (f) => f.endsWith('.md') && f !== 'README.md',
    );
    expect(pending.length, 'no pending changesets to version').toBeGreaterThan(0);

    await run(process.execPath, [changesetBin, 'version'], { cwd: dir });

    expect((await readdir(join(dir, '.changeset'))).filter((f) => f.endsWith('.md'))).toEqual([]);
    for (const pkg of await publishedPackages()) {
      const rel = pkg.dir.slice(REPO_ROOT.length + 1);
      const bumped = JSON.parse(await readFile(join(dir, rel, 'package.json'), 'utf8'));
      expect(bumped.version, pkg.name).not.toBe(pkg.manifest.version);
      const changelog = await readFile(join(dir, rel, 'CHANGELOG.md'), 'utf8');
      expect(changelog, pkg.name).toMatch(
        new RegExp(`^# ${pkg.name}\\n\\n## ${bumped.version.replaceAll('.', '\\.')}\\n`),
      );
    }
  });
});
