import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planLayer } from './plan.js';
import type { LayerEntry } from './spec.js';
import { perTestCleanup } from './test-helpers.js';

const { tmp } = perTestCleanup();

function makeApp(root: string): string {
  const src = join(root, 'app');
  for (const d of ['node_modules/left-pad', 'logs', 'src/build', 'build']) {
    mkdirSync(join(src, d), { recursive: true });
  }
  for (const f of [
    'index.js',
    'node_modules/left-pad/index.js',
    'logs/a.log',
    'keep.log',
    'debug.log',
    'src/main.js',
    'src/main.test.js',
    'src/build/out.js',
    'build/out.js',
  ]) {
    writeFileSync(join(src, f), f);
  }
  return src;
}

async function paths(entries: LayerEntry[]): Promise<string[]> {
  return (await planLayer({ entries }, { baseMtime: 0 })).map((e) => e.path);
}

describe('directory excludes', () => {
  it('leaves out what gitignore-style patterns match, relative to the source', async () => {
    const src = makeApp(tmp());
    const got = await paths([
      {
        type: 'directory',
        path: '/srv',
        source: src,
        excludes: ['node_modules/', '*.log', '!keep.log', '/build', '**/*.test.js'],
      },
    ]);
    expect(got).toEqual([
      'srv',
      'srv/index.js',
      'srv/keep.log',
      'srv/logs',
      'srv/src',
      'srv/src/build',
      'srv/src/build/out.js',
      'srv/src/main.js',
    ]);
  });

  it('does not walk an excluded directory', async () => {
    const src = join(tmp(), 'src');
    mkdirSync(join(src, 'sockets'), { recursive: true });
    writeFileSync(join(src, 'a'), 'a');
    execFileSync('mkfifo', [join(src, 'sockets', 'fifo')]); // a FIFO is rejected wherever it is walked
    await expect(paths([{ type: 'directory', path: '/a', source: src }])).rejects.toThrow(/fifo/);
    expect(await paths([{ type: 'directory', path: '/a', source: src, excludes: ['sockets/'] }])).toEqual([
      'a',
      'a/a',
    ]);
  });

  it('rejects a bad pattern list, naming the entry and the index', async () => {
    const src = makeApp(tmp());
    await expect(
      paths([{ type: 'directory', path: '/a', source: src, excludes: ['ok', ''] }]),
    ).rejects.toThrow(/^entries\[0\] \(directory "\/a"\)\.excludes\[1\]: expected a non-empty/);
    await expect(paths([{ type: 'directory', path: '/a', excludes: ['x'] } as LayerEntry])).rejects.toThrow(
      /excludes: needs a source directory/,
    );
  });
});

describe('directory owner', () => {
  it('owns the directory and every node below it; fileMetadata still wins', async () => {
    const src = makeApp(tmp());
    const planned = await planLayer(
      {
        entries: [
          { type: 'directory', path: '/srv', source: src, owner: { uid: 1000, gid: 2000, uname: 'app' } },
          { type: 'content', path: '/etc/motd', content: 'hi' },
        ],
        defaultMetadata: { uid: 5, gname: 'staff' },
        fileMetadata: { '/srv/index.js': { uid: 0 } },
      },
      { baseMtime: 0 },
    );
    const owners = Object.fromEntries(
      planned.map((e) => [e.path, `${e.meta.uid}:${e.meta.gid}:${e.meta.uname}:${e.meta.gname}`]),
    );
    expect(owners.srv).toBe('1000:2000:app:staff');
    expect(owners['srv/src/main.js']).toBe('1000:2000:app:staff');
    expect(owners['srv/node_modules/left-pad']).toBe('1000:2000:app:staff');
    expect(owners['srv/index.js']).toBe('0:2000:app:staff');
    expect(owners['etc/motd']).toBe('5:0::staff');
  });

  it('rejects a bad owner and a path written by two trees with different owners', async () => {
    const src = makeApp(tmp());
    await expect(paths([{ type: 'directory', path: '/a', source: src, owner: { uid: -1 } }])).rejects.toThrow(
      /^entries\[0\] \(directory "\/a"\)\.owner\.uid: /,
    );
    await expect(
      paths([{ type: 'directory', path: '/a', source: src, owner: { mode: '0755' } as never }]),
    ).rejects.toThrow(/\.owner: unknown field "mode"/);
    await expect(
      paths([
        { type: 'directory', path: '/a', source: src, owner: { uid: 1 } },
        { type: 'directory', path: '/a', source: src, owner: { uid: 2 } },
      ]),
    ).rejects.toThrow(/"a" is written twice with different content, type or owner/);
  });
});
