import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ciRequires,
  findTool,
  requireTool,
  run,
  TestUtilsError,
  toolAvailable,
  useTempDir,
} from '../src/index.js';

const MISSING = 'img-test-utils-no-such-tool';
const work = useTempDir('tools-test-');

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('toolAvailable / findTool', () => {
  it('finds tools on PATH and reports absent ones', () => {
    expect(toolAvailable('node')).toBe(true);
    expect(findTool('node')).toMatch(/\/node$/);
    expect(toolAvailable(MISSING)).toBe(false);
    expect(findTool(MISSING)).toBeUndefined();
  });

  it('finds tools in the tools bin dir even when it is not on PATH', async () => {
    const bin = work.join('tools-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'img-fake-tool'), '#!/bin/sh\necho fake-tool-ran "$@"\n');
    await chmod(join(bin, 'img-fake-tool'), 0o755);
    await writeFile(join(bin, 'img-not-executable'), 'data');
    vi.stubEnv('IMG_TOOLS_BIN', bin);
    expect(findTool('img-fake-tool')).toBe(join(bin, 'img-fake-tool'));
    expect(toolAvailable('img-not-executable')).toBe(false);
    const { stdout } = await run('img-fake-tool', ['a b']);
    expect(stdout).toBe('fake-tool-ran a b\n');
  });
});

describe('requireTool / ciRequires', () => {
  it('returns the path of a present tool', () => {
    expect(requireTool('node')).toBe(findTool('node'));
  });

  it('returns undefined for a missing tool outside CI', () => {
    vi.stubEnv('CI', '');
    expect(requireTool(MISSING)).toBeUndefined();
    vi.stubEnv('CI', 'false');
    expect(requireTool(MISSING)).toBeUndefined();
    const check = ciRequires('node', MISSING);
    expect(check.skip).toBe(true);
    expect(check.missing).toEqual([MISSING]);
    expect(check.paths.node).toBe(findTool('node'));
    expect(check.reason).toContain('scripts/install-test-tools.sh');
  });

  it('throws for a missing tool under CI=true', () => {
    vi.stubEnv('CI', 'true');
    expect(() => requireTool(MISSING)).toThrow(TestUtilsError);
    expect(() => requireTool(MISSING)).toThrow(
      expect.objectContaining({ code: 'IMG_TESTUTILS_MISSING_TOOL', tools: [MISSING] }),
    );
    expect(() => requireTool(MISSING)).toThrow(
      `${MISSING} is required under CI=true; install it with scripts/install-test-tools.sh`,
    );
    expect(() => ciRequires('node', MISSING, 'img-other-missing')).toThrow(
      `${MISSING}, img-other-missing are required under CI=true`,
    );
    expect(ciRequires('node')).toEqual({
      missing: [],
      skip: false,
      reason: '',
      paths: { node: findTool('node') },
    });
  });
});

describe('a test file using ciRequires, run by a child vitest', () => {
  const vitestBin = join(
    dirname(createRequire(import.meta.url).resolve('vitest/package.json')),
    'vitest.mjs',
  );
  const config = join(__dirname, 'fixtures', 'ci-child', 'vitest.config.ts');
  const child = (ci: string) =>
    run(process.execPath, [vitestBin, 'run', '--config', config], {
      allowFailure: true,
      env: { ...process.env, CI: ci, IMG_FIXTURE_TOOL: MISSING, NO_COLOR: '1' },
    });

  it('fails under CI=true, naming the tool and the install script', async () => {
    const result = await child('true');
    const output = result.stdout + result.stderr;
    expect(result.code, output).not.toBe(0);
    expect(output).toContain(
      `${MISSING} is required under CI=true; install it with scripts/install-test-tools.sh`,
    );
  });

  it('skips (exit 0) when CI is not set', async () => {
    const result = await child('');
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    expect(output).toMatch(/1 skipped/);
  });
});
