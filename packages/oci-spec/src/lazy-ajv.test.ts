import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = resolve(import.meta.dirname, '../dist/index.js');

// A child process importing the built package, as users (and @img/layer-writer) do.
const CHILD = `
import { createRequire } from 'node:module';
const loaded = () => Object.keys(createRequire(import.meta.url)('node:module')._cache).some((p) => /[\\\\/]ajv/.test(p));
const spec = await import(${JSON.stringify(DIST)});
const before = loaded();
const violations = spec.schemaViolations('descriptor', { mediaType: 'a/b', digest: 'sha256:${'0'.repeat(64)}', size: -1 });
console.log(JSON.stringify({ before, after: loaded(), violations }));
`;

describe('ajv', () => {
  it('is loaded on the first schema check, not on import', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], { encoding: 'utf8' });
    const { before, after, violations } = JSON.parse(out) as {
      before: boolean;
      after: boolean;
      violations: string[];
    };
    expect(before).toBe(false);
    expect(after).toBe(true);
    expect(violations).toEqual([expect.stringContaining('size')]);
  });
});
