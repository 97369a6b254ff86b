import { writeFile } from 'node:fs/promises';
import { tempDir, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import type { Io } from '../src/io.js';
import { createProgram, leafCommands } from '../src/main.js';
import { type BinRun, runImg } from './bin.js';

const tmp = useTempDir('img-cli-contract-');

/** Every command path the CLI has (`build`, `registry serve`, `estargz verify`...). */
async function commandPaths(): Promise<string[][]> {
  const io: Io = { out() {}, err() {}, interactive: false, quiet: true };
  const program = await createProgram(io);
  const path = (c: { name(): string; parent: unknown }): string[] => {
    const parent = c.parent as { name(): string; parent: unknown } | null;
    return parent && parent !== program ? [...path(parent), c.name()] : [c.name()];
  };
  return leafCommands(program)
    .map((c) => path(c as never))
    .filter((p) => p[0] !== 'help');
}

/** stdout holds exactly one JSON document (and nothing else). */
function oneJson(r: BinRun): { error?: { code: string; message: string } } & Record<string, unknown> {
  const text = r.stdout.trim();
  expect(text.split('\n'), r.stdout).toHaveLength(1);
  return JSON.parse(text);
}

/** Run `fn` over `items`, `n` at a time (each spawns a Node process). */
async function eachLimit<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

describe('one exit-code and --json mechanism for every command (spawned bin)', () => {
  it('exits 2 with a JSON usage error on stdout and one line on stderr, for every command', async () => {
    const paths = await commandPaths();
    expect(paths.length).toBeGreaterThanOrEqual(30);
    const failures: string[] = [];
    await eachLimit(paths, 2, async (path) => {
      const r = await runImg([...path, '--json', '--no-such-flag']);
      // A server has no JSON result (it prints its address as it listens): its usage errors exit 2 all the same.
      const serving = path.join(' ') === 'registry serve';
      const doc = (() => {
        try {
          return oneJson(r);
        } catch {
          return undefined;
        }
      })();
      const jsonOk = serving ? r.stdout === '' : doc?.error?.code === 'IMG_CLI_USAGE';
      // The first problem found: the unknown flag, or a required option missing.
      if (
        r.code !== 2 ||
        !jsonOk ||
        !/^img: (unknown option '--no-such-flag'|required option .* not specified)\n$/.test(r.stderr)
      ) {
        failures.push(
          `${path.join(' ')}: exit ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`,
        );
      }
    });
    expect(failures).toEqual([]);
  });

  it('exits 2 for usage errors found while running, 1 for operational ones, with the error as JSON', async () => {
    const spec = tmp.join('spec.json');
    await writeFile(spec, JSON.stringify({ platform: 'linux/amd64', layers: [] }));
    const cases: Array<[args: string[], exit: number, code: string]> = [
      [['build', spec], 2, 'IMG_CLI_USAGE'], // neither --output nor --push
      [['ls', 'Not A Repo'], 2, 'IMG_REGISTRY_INVALID_REFERENCE'],
      [['completion', 'tcsh'], 2, 'IMG_CLI_USAGE'],
      [['manifest', 'localhost:1/x:1', '--layer', 'l.json'], 2, 'IMG_CLI_USAGE'],
      [['manifest'], 2, 'IMG_CLI_USAGE'],
      [['registry'], 2, 'IMG_CLI_USAGE'],
      [['build', tmp.join('missing.json'), '--output', `oci:${tmp.join('o')}`], 1, 'IMG_CLI_INVALID_INPUT'],
      [['validate', `oci:${tmp.join('nothing')}`], 1, 'IMG_LAYOUT_NOT_FOUND'],
      [['inspect', `oci:${tmp.join('nothing')}`], 1, 'IMG_LAYOUT_NOT_FOUND'],
      [['digest', '127.0.0.1:1/x:1', '--timeout', '5s'], 1, 'IMG_REGISTRY_NETWORK_ERROR'],
    ];
    for (const [args, exit, code] of cases) {
      const r = await runImg([...args, '--json']);
      expect({ args, exit: r.code }).toEqual({ args, exit });
      const doc = oneJson(r);
      expect(doc.error?.code, r.stdout).toBe(code);
      // Without --json: nothing on stdout, the same exit, one line on stderr (`img registry`: its help).
      const plain = await runImg(args);
      expect([plain.code, plain.stdout]).toEqual([exit, '']);
      if (args[0] !== 'registry') {
        expect(r.stderr).toMatch(/^img: /);
        expect(plain.stderr.trim().split('\n')).toHaveLength(1);
      }
    }
  });

  it('prints one JSON result on success (human lines go to stderr)', async () => {
    const dir = await tempDir('img-contract-ok-');
    try {
      await writeFile(dir.join('a.txt'), 'a\n');
      const layer = await runImg([
        'layer',
        dir.join('l.tgz'),
        '--add',
        `/a.txt=${dir.join('a.txt')}`,
        '--metadata',
        dir.join('l.json'),
        '--json',
      ]);
      expect(layer.code, layer.stderr).toBe(0);
      expect(oneJson(layer)).toMatchObject({
        digest: expect.stringMatching(/^sha256:/),
        diff_id: expect.any(String),
      });
      const spec = dir.join('image.json');
      await writeFile(
        spec,
        JSON.stringify({ platform: 'linux/amd64', layers: [{ files: { '/a.txt': 'a.txt' } }] }),
      );
      const built = await runImg(['build', spec, '--output', `oci:${dir.join('out')}`, '--json']);
      expect(built.code, built.stderr).toBe(0);
      const result = oneJson(built);
      expect(result).toMatchObject({
        digest: expect.stringMatching(/^sha256:/),
        output: `oci:${dir.join('out')}`,
      });
      expect(built.stderr).toContain(`oci:${dir.join('out')}@${result.digest}`);
      const inspected = oneJson(await runImg(['inspect', dir.join('out'), '--json']));
      expect(inspected.root).toMatchObject({ digest: result.digest });
    } finally {
      await dir.remove();
    }
  });

  it('bare img prints the help on stdout and exits 0', async () => {
    const r = await runImg([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: img \[options\] \[command\]/);
    expect(r.stdout).toContain('copy|cp [options] <source> <destination>');
    expect(r.stderr).toBe('');
    expect(r.stdout + r.stderr).not.toContain('outputHelp');
  });

  it('completion scripts for bash, zsh and fish name every command; bash completes them', async () => {
    const paths = await commandPaths();
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = await runImg(['completion', shell]);
      expect(r.code, r.stderr).toBe(0);
      for (const [name] of paths)
        if (name !== 'completion') expect(r.stdout, `${shell}: ${name}`).toContain(name);
    }
    const script = tmp.join('img.bash');
    await writeFile(script, (await runImg(['completion', 'bash'])).stdout);
    const { execFileSync } = await import('node:child_process');
    const complete = (words: string) =>
      execFileSync('bash', [
        '-c',
        `source ${script}; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _img; echo "\${COMPREPLY[*]}"`,
      ])
        .toString()
        .trim();
    expect(complete('img co')).toBe('copy config');
    expect(complete('img copy --pl')).toBe('--platform');
    expect(complete('img registry s')).toBe('serve');
  });
});
