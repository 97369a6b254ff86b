import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { IMG_BIN } from './bin.js';

const tmp = useTempDir('cli-heap-settings-');

// Loaded before the bin: reports the largest sizes V8's young generation (new space) and old
// generation (old space) reached.
const PROBE = `
import v8 from 'node:v8';
const space = (name) => v8.getHeapSpaceStatistics().find((s) => s.space_name === name).space_size;
const max = { new_space: 0, old_space: 0 };
const sample = () => { for (const k of Object.keys(max)) max[k] = Math.max(max[k], space(k)); };
setInterval(sample, 2).unref();
process.on('exit', () => { sample(); process.stderr.write('new_space ' + max.new_space + ' old_space ' + max.old_space + '\\n'); });
`;

describe('img keeps the V8 heap small', () => {
  it('planning a 20k-file layer grows neither the young generation (V8 would make it 32 MiB) nor the old one past 26 MiB', () => {
    const tree = tmp.join('tree');
    for (let d = 0; d < 200; d++) {
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
    // --optimize-for-size collects planning's garbage before growing the old generation: ~21 MiB
    // with it, ~32 MiB without on Node 20 (Node 24: ~18 and ~20 MiB).
    const oldSpace = Number(/old_space (\d+)/.exec(r.stderr)?.[1]);
    expect(oldSpace).toBeGreaterThan(0);
    expect(oldSpace).toBeLessThanOrEqual(26 * 1024 * 1024);
  });
});
