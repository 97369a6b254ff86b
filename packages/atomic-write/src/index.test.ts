import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AtomicFileData, AtomicFileOptions, OutputErrorCode } from './index.js';
import * as api from './index.js';

// A tripwire: adding, removing or renaming an export is a deliberate change, made here too.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'AtomicFile',
      'OutputError',
      'cleanupOnExit',
      'makeDirectory',
      'outputError',
      'removeOnExit',
      'systemErrorReason',
      'tempPathBeside',
      'writeFileAtomic',
    ]);
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [AtomicFileData, AtomicFileOptions, OutputErrorCode];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
