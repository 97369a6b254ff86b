import type { PlannedEntry } from '@img/layer-writer/internal';
import { describe, expect, it } from 'vitest';
import { orderForEstargz } from './order.js';

const meta = { mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: 0, paxRecords: {} };
const dir = (path: string): PlannedEntry => ({ path, kind: 'directory', size: 0, meta, whiteout: false });
const file = (path: string): PlannedEntry => ({
  path,
  kind: 'file',
  size: 1,
  source: { kind: 'bytes', data: Buffer.from('x') },
  meta,
  whiteout: false,
});
const planned = [dir('a'), dir('a/b'), file('a/b/c'), file('a/d'), dir('e'), file('e/f'), file('g')];
const paths = (entries: PlannedEntry[]) => entries.map((e) => e.path);

describe('orderForEstargz', () => {
  it('puts .no.prefetch.landmark first without a list', () => {
    const out = orderForEstargz(planned);
    expect(paths(out)).toEqual(['.no.prefetch.landmark', ...paths(planned)]);
    expect(out[0]).toMatchObject({ kind: 'file', size: 1, meta: { mode: 0, mtime: 0 }, whiteout: true });
  });

  it('moves prioritized paths and their parents to the front, in list order, then the landmark', () => {
    const out = orderForEstargz(planned, ['/e/f', 'a/b/c', 'e/f', './g']);
    expect(paths(out)).toEqual(['e', 'e/f', 'a', 'a/b', 'a/b/c', 'g', '.prefetch.landmark', 'a/d']);
  });

  it('names bad lists and reserved names', () => {
    expect(() => orderForEstargz(planned, ['a/x'], 'prio.txt')).toThrow(
      'prio.txt[0]: "a/x" is not in the layer',
    );
    expect(() => orderForEstargz(planned, ['/'])).toThrow('the root directory cannot be prioritized');
    expect(() => orderForEstargz(planned, ['../x'])).toThrow(/escapes the layer root/);
    expect(() => orderForEstargz([file('.prefetch.landmark')])).toThrow(/reserved in eStargz layers/);
  });
});
