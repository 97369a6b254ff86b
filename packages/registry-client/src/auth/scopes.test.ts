import { describe, expect, it } from 'vitest';
import { mergeScopes, pullScope, pushScope, scopesCover } from './scopes.js';

describe('scopes', () => {
  it('merges actions per resource keeping the first-seen order', () => {
    expect(mergeScopes([pushScope('app'), pullScope('base'), pullScope('app')])).toEqual([
      'repository:app:pull,push',
      'repository:base:pull',
    ]);
    expect(
      mergeScopes(['repository:a:pull repository:b:push'], ['repository:127.0.0.1:5000/x:pull']),
    ).toEqual(['repository:a:pull', 'repository:b:push', 'repository:127.0.0.1:5000/x:pull']);
  });

  it('knows when granted scopes cover needed ones', () => {
    expect(scopesCover([pushScope('app')], [pullScope('app')])).toBe(true);
    expect(scopesCover([pullScope('app')], [pushScope('app')])).toBe(false);
    expect(scopesCover(['repository:app:*'], [pushScope('app')])).toBe(true);
    expect(scopesCover([pushScope('app')], [pushScope('app'), pullScope('base')])).toBe(false);
    expect(scopesCover([], [])).toBe(true);
  });
});
