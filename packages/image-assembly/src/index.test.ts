import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

// A tripwire: adding, removing or renaming an export is a deliberate change, made here too.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'AssemblyError',
      'BASE_DIGEST_ANNOTATION',
      'BASE_NAME_ANNOTATION',
      'DEFAULT_HISTORY_CREATED',
      'applyConfigSettings',
      'baseLayers',
      'buildImage',
      'buildIndex',
      'checkBaseImage',
      'envFromList',
      'mergeConfigFragment',
      'subjectDescriptor',
    ]);
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.AssembledImage,
  api.AssemblyErrorCode,
  api.BaseImage,
  api.BuildImageOptions,
  api.BuildIndexOptions,
  api.BuiltIndex,
  api.ConfigSettings,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
