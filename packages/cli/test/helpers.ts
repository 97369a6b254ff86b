import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { run } from '@img/test-utils';
import type { Io } from '../src/io.js';
import { main } from '../src/main.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const EXAMPLE_DIR = join(REPO_ROOT, 'examples/hello');
/** The built `img` bin (pnpm build writes it; `pnpm test` builds first). */
export const IMG_BIN = join(REPO_ROOT, 'packages/cli/dist/bin.cjs');

/** Run the built `img` bin as its own process, as a user does; never throws on a non-zero exit. */
export async function imgBin(args: readonly string[], options: { cwd?: string } = {}): Promise<ImgRun> {
  const r = await run(process.execPath, [IMG_BIN, ...args], { allowFailure: true, ...options });
  return { code: r.code ?? -1, stdout: r.stdout.trimEnd(), stderr: r.stderr.trimEnd() };
}

export interface ImgRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run img in-process with captured output. */
export async function img(...args: string[]): Promise<ImgRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), interactive: false, quiet: true };
  const code = await main(args, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** Like img() but throws with the captured stderr on a non-zero exit. */
export async function imgOk(...args: string[]): Promise<ImgRun> {
  const r = await img(...args);
  if (r.code !== 0) throw new Error(`img ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** Every name under a directory, recursively, sorted (to assert nothing was left behind). */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

/** The example spec with every layer gzip-compressed (for tools without zstd), paths made absolute. */
export async function gzipExampleSpec(dir: string): Promise<string> {
  const path = join(dir, 'gz-spec.json');
  const spec = JSON.parse(await readFile(join(EXAMPLE_DIR, 'image.json'), 'utf8'));
  const rebase = (m?: Record<string, string>) =>
    m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, join(EXAMPLE_DIR, v)])) : undefined;
  spec.layers = spec.layers.map(
    (l: { files?: Record<string, string>; directories?: Record<string, string> }) => ({
      ...l,
      compress: 'gzip',
      files: rebase(l.files),
      directories: rebase(l.directories),
    }),
  );
  await writeFile(path, JSON.stringify(spec));
  return path;
}
