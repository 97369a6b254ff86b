import { join, resolve } from 'node:path';
import { ciRequires, run, startBuildGrid, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { bundleForNode } from './bundle.js';

const needs = ciRequires('bgd');
const dir = useTempDir('remote-cache-large-');
const SIZE_MIB = 1024;
/** Node, gRPC and the 1 MiB write chunks; a blob held in memory would be 1 GiB on top. */
const MAX_CHILD_RSS_MIB = 300;

describe.skipIf(needs.skip)('a 1 GiB blob', () => {
  it(`streams ${SIZE_MIB} MiB into BuildGrid and back in bounded memory (child RSS)`, {
    timeout: 600_000,
  }, async () => {
    const bg = await startBuildGrid({ instanceNames: [''] });
    try {
      const outfile = join(dir.path, 'child.mjs');
      await bundleForNode(resolve(import.meta.dirname, 'child', 'stream-large-blob.ts'), outfile, 'esm');
      const { stdout } = await run(process.execPath, [outfile, bg.endpoint, String(SIZE_MIB)], {
        timeoutMs: 540_000,
        env: { ...process.env, IMG_REAPI_PROTO_DIR: resolve(import.meta.dirname, '..', 'protos') },
      });
      const result = JSON.parse(stdout) as {
        bytes: number;
        writeMs: number;
        readMs: number;
        maxRssMiB: number;
      };
      console.log(`1 GiB through BuildGrid: ${JSON.stringify(result)}`);
      expect(result.bytes).toBe(SIZE_MIB * 1024 * 1024);
      expect(result.maxRssMiB).toBeLessThan(MAX_CHILD_RSS_MIB);
    } finally {
      await bg.stop();
    }
  });
});
