import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('public API', () => {
  it('exports the documented values', () => {
    for (const name of [
      'AtomicFile',
      'writeFileAtomic',
      'cleanupOnExit',
      'makeDirectory',
      'removeOnExit',
      'OutputError',
      'outputError',
      'systemErrorReason',
      'tempPathBeside',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
    }
  });
});
