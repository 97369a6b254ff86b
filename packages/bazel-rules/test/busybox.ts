import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A busybox image spec for `img push` (gzip layers: crane cannot read zstd); `env` joins BASE=busybox. */
export async function busyboxSpec(
  dir: string,
  platform: string,
  env: Record<string, string> = {},
): Promise<string> {
  const spec = {
    platform,
    layers: [
      {
        files: { '/bin/busybox': '/bin/busybox' },
        symlinks: { '/bin/sh': 'busybox', '/bin/echo': 'busybox', '/bin/cat': 'busybox' },
        metadata: { '/bin/busybox': { mode: '0755' } },
        compress: 'gzip',
      },
    ],
    config: { env: { BASE: 'busybox', ...env } },
  };
  const path = join(dir, `base-${platform.replace(/\//g, '_')}.json`);
  await writeFile(path, JSON.stringify(spec));
  return path;
}
