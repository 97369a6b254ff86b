import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { IMG_BIN } from './bin.js';

const tmp = useTempDir('cli-young-generation-');

// Loaded before the bin: reports the largest size V8's young generation (new space) reached.
const PROBE = `
import v8 from 'node:v8';
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
let max = 0;
setInterval(() => { max = Math.max(max, newSpace()); }, 2).unref();
process.on('exit', () => process.stderr.write('new_space ' + Math.max(max, newSpace()) + '\\n'));
`;

describe('img keeps V8 young generation small', () => {
  it('planning a 10k-file layer does not grow the young generation (V8 would grow it to 32 MiB)', () => {
    const tree = tmp.join('tree');
    for (let d = 0; d < 100; d++) {
      mkdirSync(`${tree}/d${d}`, { recursive: true });
      for (let f = 0; f < 100; f++)
        writeFileSync(`${tree}/d${d}/file-${f}.txt`, 'x'.repeat((d * 100 + f) % 300));
    }
    writeFileSync(tmp.join('probe.mjs'), PROBE);
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        tmp.join('probe.mjs'),
        IMG_BIN,
        'layer',
        `--add-dir=/=${tree}`,
        `--metadata=${tmp.join('layer.json')}`,
        tmp.join('layer.tgz'),
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const newSpace = Number(/new_space (\d+)/.exec(r.stderr)?.[1]);
    // its initial size (two 1 MiB semi-spaces on Node 20 and 24)
    expect(newSpace).toBeGreaterThan(0);
    expect(newSpace).toBeLessThanOrEqual(4 * 1024 * 1024);
  });
});
