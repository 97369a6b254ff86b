import { readdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

/**
 * tsup's CommonJS splitting names the generated file itself, by absolute path, among a .cjs map's
 * sources (for the lines it added). Make those paths relative to the map, so the shipped maps point
 * at shipped files and carry no build machine path.
 */
async function relativeMapSources(): Promise<void> {
  const dist = join(import.meta.dirname ?? __dirname, 'dist');
  for (const name of await readdir(dist)) {
    if (!name.endsWith('.map')) continue;
    const file = join(dist, name);
    const map = JSON.parse(await readFile(file, 'utf8')) as { sources: string[] };
    if (!map.sources.some(isAbsolute)) continue;
    map.sources = map.sources.map((s) => (isAbsolute(s) ? relative(dist, s) : s));
    await writeFile(file, JSON.stringify(map));
  }
}

// Two entry points, the public API and ./internal (primitives shared with estargz, oci-layout, cli),
// sharing one copy of each module (splitting), so both see the same classes and module state.
export default defineConfig({
  ...baseConfig,
  entry: ['src/index.ts', 'src/internal.ts'],
  splitting: true,
  onSuccess: relativeMapSources,
});
