import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The monorepo root: the nearest ancestor of this module holding pnpm-workspace.yaml. */
export function repoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('@img/test-utils: cannot find the repository root (pnpm-workspace.yaml)');
    dir = parent;
  }
}

/** Where scripts/install-test-tools.sh puts tools built from source (crane). */
export function toolsBinDir(): string {
  return process.env.IMG_TOOLS_BIN ?? join(repoRoot(), '.tools', 'bin');
}
