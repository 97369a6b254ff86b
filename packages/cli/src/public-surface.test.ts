import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// @img/cli is a command, not a library: its public surface is the `img` bin and the two JSON
// schemas it reads. A tripwire: adding a library entry point is a deliberate change, made here too.
describe('public surface', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    main?: string;
    types?: string;
    bin: Record<string, string>;
    exports: Record<string, string>;
  };

  it('is the img bin and the schemas, with no library entry', () => {
    expect(manifest.bin).toEqual({ img: './dist/bin.cjs' });
    expect(Object.keys(manifest.exports).sort()).toEqual([
      './deploy-request.schema.json',
      './image-spec.schema.json',
      './package.json',
    ]);
    expect(manifest.main).toBeUndefined();
    expect(manifest.types).toBeUndefined();
  });
});
