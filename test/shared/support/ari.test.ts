// The test helper adjustedRandIndex, checked against scikit-learn so that the planted-segment
// recovery test relies on a correct measure.

import { describe, expect, it } from 'vitest';
import { adjustedRandIndex } from './ari.ts';

describe('adjustedRandIndex', () => {
  it('is 1 for the same partition under different label names', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2], [2, 2, 0, 0, 1])).toBe(1);
  });

  it('matches scikit-learn adjusted_rand_score on small labelings', () => {
    // reference values from sklearn.metrics.adjusted_rand_score (scikit-learn, /usr/bin/python3)
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(0.5714285714285714, 12);
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(0.24242424242424243, 12);
    expect(adjustedRandIndex([0, 1, 2, 0, 1, 2, 0, 1], [1, 1, 0, 0, 2, 2, 2, 0])).toBeCloseTo(-0.3333333333333333, 12);
  });

  it('refuses labelings of different lengths', () => {
    expect(() => adjustedRandIndex([0, 1], [0])).toThrow(/differ in length/);
  });
});
