import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePlannedEntries } from './layer-tar.js';
import { planLayer } from './plan.js';
import { TarWriter } from './tar-writer.js';
import { perTestCleanup } from './test-helpers.js';

const { tmp } = perTestCleanup();

async function writeTo(entries: Parameters<typeof writePlannedEntries>[1], releaseWritten?: boolean) {
  const out: Buffer[] = [];
  const writer = new TarWriter((c) => {
    out.push(Buffer.from(c));
  });
  await writePlannedEntries(writer, entries, releaseWritten === undefined ? {} : { releaseWritten });
  await writer.finish();
  return Buffer.concat(out);
}

describe('writePlannedEntries', () => {
  it('empties the slots of the entries it wrote with releaseWritten, and only then; same bytes', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a'), 'same');
    writeFileSync(join(dir, 'b'), 'same');
    writeFileSync(join(dir, 'c'), 'other');
    const spec = { entries: [{ type: 'directory' as const, path: '/', source: dir }] };
    const kept = await planLayer(spec, { baseMtime: 0 });
    const released = await planLayer(spec, { baseMtime: 0 });
    const tarKept = await writeTo(kept);
    const tarReleased = await writeTo(released, true);
    expect(tarReleased.equals(tarKept)).toBe(true);
    expect(kept.every((e) => e !== undefined)).toBe(true);
    expect(released).toHaveLength(kept.length);
    expect(released.every((e) => e === undefined)).toBe(true);
  });
});
