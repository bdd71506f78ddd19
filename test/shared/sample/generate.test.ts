// The synthetic customer generator: the mall's output pinned byte for byte (the hashes were taken
// from the generator before it served any schema), and generated files of other schemas.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateCsv, generateCustomers, PLANTED_SEGMENTS, type GenerateOptions } from '../../../shared/sample/generate.ts';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('generateCsv for the mall', () => {
  // Computed with the mall-only generator of commit ec5891f; the 10⁶-row file of seed 1 hashes to
  // 215ac0de5b831d9d701d57f181c4bffd5fcbeb2a450a435d67fdb6a2dfb89add (checked by hand, too slow for a test).
  const pins: [GenerateOptions, string][] = [
    [{ rows: 0 }, '081e2d034b799ccacb25cfd2ce1197fc6e3d5cca4b5fd9bdaf8de5153597fb60'],
    [{ rows: 1, seed: 0 }, '5b5b8405f4c25b78066280bba047bbce13b86f85cde7649693e7863f4b697ce3'],
    [{ rows: 1000, seed: 1 }, 'e11085030d72ce5e874d89539a96732b53cac1224fe25e9b919467588d7f42c0'],
    [{ rows: 12_345, seed: 7, firstId: 100_000 }, '3490eb22b01f3c0faae1a1e3fb8405239a050ed65ce0f85977c04dd91a358378'],
    [{ rows: 3000, seed: 42, firstId: 5, ageShift: 15 }, 'a85ca58864972888e54bb6cbbb2cc26cb5becc0ecff06c1d603fa3250c297888'],
    [{ rows: 2000, seed: 3, ageShift: -30 }, 'e14f3a7682e8048e0ae6f8ec7f9f7c2bdad7ef5448e76205a824ec5825218164'],
    [{ rows: 100_000, seed: 1 }, '73d5063a0035a0165977cfa1b7225b91e2c177736d4c49d51fcea3105e7309f7'],
    [{ rows: 3000, seed: 32, segments: PLANTED_SEGMENTS.slice(0, 4) }, '4f7a4f75d2e823313be2d511ac545aaa13195cc80e26b5f7de81ff11337a2d87'],
  ];

  it.each(pins)('writes the same bytes as before for %j', (options, hash) => {
    expect(sha256([...generateCsv(options)].join(''))).toBe(hash);
  });

  it('yields the same customers as before', () => {
    const customers = [...generateCustomers({ rows: 2000, seed: 9, ageShift: 4 })];
    expect(sha256(JSON.stringify(customers))).toBe('3e270b83c968469b1e5df35ae7e0247ae20ac99a27275317cb23127bc07bb6ff');
  });
});
