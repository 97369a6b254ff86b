import { describe, expect, it } from 'vitest';
import { cleanEntryName, parseToc, serializeToc, type Toc } from './toc.js';

const D = 'sha256:98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4';

describe('TOC JSON', () => {
  it('is tab-indented Go MarshalIndent output with zero values omitted', () => {
    const toc: Toc = {
      version: 1,
      entries: [
        { name: './', type: 'dir', modtime: '1970-01-01T00:00:01Z', mode: 493 },
        {
          name: './a&<b>.txt',
          type: 'reg',
          size: 3,
          mode: 420,
          uid: 0,
          offset: 124,
          digest: D,
          chunkDigest: D,
        },
        { name: './x', type: 'reg', xattrs: { 'user.b': 'Yg==', 'user.a': 'YQ==' }, chunkOffset: 0 },
      ],
    };
    expect(serializeToc(toc).toString()).toBe(
      [
        '{',
        '\t"version": 1,',
        '\t"entries": [',
        '\t\t{',
        '\t\t\t"name": "./",',
        '\t\t\t"type": "dir",',
        '\t\t\t"modtime": "1970-01-01T00:00:01Z",',
        '\t\t\t"mode": 493',
        '\t\t},',
        '\t\t{',
        '\t\t\t"name": "./a\\u0026\\u003cb\\u003e.txt",',
        '\t\t\t"type": "reg",',
        '\t\t\t"size": 3,',
        '\t\t\t"mode": 420,',
        '\t\t\t"offset": 124,',
        `\t\t\t"digest": "${D}",`,
        `\t\t\t"chunkDigest": "${D}"`,
        '\t\t},',
        '\t\t{',
        '\t\t\t"name": "./x",',
        '\t\t\t"type": "reg",',
        '\t\t\t"xattrs": {',
        '\t\t\t\t"user.a": "YQ==",',
        '\t\t\t\t"user.b": "Yg=="',
        '\t\t\t}',
        '\t\t}',
        '\t]',
        '}',
      ].join('\n'),
    );
    expect(parseToc(serializeToc(toc), 'here').entries[1]!.name).toBe('./a&<b>.txt');
  });

  it('names the blob and the field of a bad TOC', () => {
    const bad = (json: unknown) => () => parseToc(Buffer.from(JSON.stringify(json)), 'blob.gz');
    expect(() => parseToc(Buffer.from('{'), 'blob.gz')).toThrow(/^blob.gz: invalid TOC: not JSON/);
    expect(bad({ version: 1, entries: {} })).toThrow('blob.gz: invalid TOC: entries: expected an array');
    expect(bad({ version: 1, entries: [{ name: 'a', type: 'socket' }] })).toThrow(
      'entries[0].type: unknown type "socket"',
    );
    expect(bad({ version: 1, entries: [{ name: 'a', type: 'reg', offset: -1 }] })).toThrow(
      'entries[0].offset: expected a non-negative integer, got -1',
    );
    expect(bad({ version: 1, entries: [{ name: 'a', type: 'reg', xattrs: { k: 1 } }] })).toThrow(
      'entries[0].xattrs.k: expected a base64 string',
    );
  });

  it('normalises names as the reference reader does', () => {
    expect(cleanEntryName('./a/b/')).toBe('a/b');
    expect(cleanEntryName('/a/./c/../b')).toBe('a/b');
    expect(cleanEntryName('../../x')).toBe('x');
    expect(cleanEntryName('./')).toBe('');
  });
});
