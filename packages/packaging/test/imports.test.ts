import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

// The dependency rules of the README: packages import downward only, no import cycle between files,
// no import of another package's private files (scripts/check-imports.mjs, also part of `pnpm lint`).
describe('imports', () => {
  it('have no cycle and no private import', () => {
    const out = execFileSync(process.execPath, ['scripts/check-imports.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out).toMatch(/no cycle, no private import/);
  });
});
