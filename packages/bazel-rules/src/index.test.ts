import { describe, expect, it } from 'vitest';
import * as api from './index.js';

// A tripwire: adding, removing or renaming an export is a deliberate change, made here too.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual(['BAZEL_MODULE_NAME', 'imgBundlePath', 'moduleDir']);
  });
});
