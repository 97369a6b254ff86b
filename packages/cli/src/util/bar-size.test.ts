import { describe, expect, it } from 'vitest';
import { barSize } from './bar-size.js';

describe('barSize', () => {
  it('fits the bar into the terminal, between 10 and 40 columns', () => {
    expect(barSize(80, 70)).toBe(10);
    expect(barSize(100, 70)).toBe(30);
    expect(barSize(200, 70)).toBe(40);
    expect(barSize(40, 70)).toBe(10);
    expect(barSize(undefined, 70)).toBe(10);
    expect(barSize(0, 60)).toBe(20);
  });
});
