import { describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';

describe('newId', () => {
  it('is prefixed, URL-safe and of fixed length', () => {
    const id = newId('run', Date.UTC(2026, 0, 1));
    expect(id).toMatch(/^run_[0-9a-hjkmnp-tv-z]{20}$/);
  });

  it('sorts by creation time as a string', () => {
    const times = [0, 1, 31, 32, 1_000, 1_700_000_000_000, Date.UTC(2026, 0, 1), 2 ** 45];
    const ids = times.map((t) => newId('run', t));
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  it('sorts ids made in the same millisecond in creation order', () => {
    const now = Date.UTC(2026, 5, 1);
    const ids = Array.from({ length: 200 }, () => newId('stp', now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(200);
  });

  it('keeps time order across a mix of times with many ids each', () => {
    const base = Date.UTC(2026, 5, 1);
    const ids: string[] = [];
    for (let t = 0; t < 20; t++) for (let i = 0; i < 30; i++) ids.push(newId('wkr', base + t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs in its random part between calls', () => {
    const a = newId('run', 5).slice(-8);
    const b = newId('run', 6).slice(-8);
    const c = newId('run', 7).slice(-8);
    expect(new Set([a, b, c]).size).toBeGreaterThan(1);
  });
});
