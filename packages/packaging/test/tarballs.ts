import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { run } from '@img/test-utils';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

export interface WorkspacePackage {
  readonly name: string;
  readonly dir: string;
  readonly manifest: Record<string, unknown> & { private?: boolean; version: string };
}

/** Every package under packages/, published or not. */
export async function workspacePackages(): Promise<WorkspacePackage[]> {
  const root = join(REPO_ROOT, 'packages');
  const out: WorkspacePackage[] = [];
  for (const name of (await readdir(root)).sort()) {
    const manifest = JSON.parse(await readFile(join(root, name, 'package.json'), 'utf8').catch(() => 'null'));
    if (manifest) out.push({ name: manifest.name, dir: join(root, name), manifest });
  }
  return out;
}

/** The packages npm would publish (not private). */
export async function publishedPackages(): Promise<WorkspacePackage[]> {
  return (await workspacePackages()).filter((p) => !p.manifest.private);
}

/** `pnpm pack` a package into `dest` (workspace: ranges become versions, as pnpm publish does). */
export async function pack(pkg: WorkspacePackage, dest: string): Promise<string> {
  const before = new Set(await readdir(dest));
  await run('pnpm', ['pack', '--pack-destination', dest], { cwd: pkg.dir });
  const made = (await readdir(dest)).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== 1) throw new Error(`pnpm pack of ${pkg.name} made ${made.join(', ') || 'nothing'}`);
  return join(dest, made[0]!);
}

/** The files of a .tgz (paths without the leading `package/`), read with a minimal ustar reader. */
export async function tarballFiles(tgz: string): Promise<Map<string, Buffer>> {
  const tar = gunzipSync(await readFile(tgz));
  const files = new Map<string, Buffer>();
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const body = tar.subarray(offset + 512, offset + 512 + size);
    if (type === 'x') {
      const path = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      if (path) longName = path;
    } else if (type === '0' || type === '') {
      files.set(name.replace(/^package\//, ''), Buffer.from(body));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
