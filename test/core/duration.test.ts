import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    [0.5, 0.5],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['2w', 1_209_600_000],
    ['10 s', 10_000],
    ['  7ms  ', 7],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input, 'timeout')).toBe(ms);
  });

  it.each([
    '5 mins',
    '1e3ms',
    '-1s',
    '10',
    'ms',
    '',
    '1.s',
    '1 hour',
    -1,
    Number.NaN,
    Infinity,
    null,
    undefined,
    {},
    true,
  ])('rejects %j, naming the option and what it accepts', (input) => {
    let error: unknown;
    try {
      parseDuration(input, 'task load: retries.initialDelay');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.code).toBe('invalid_duration');
    expect(e.message.startsWith('task load: retries.initialDelay: ')).toBe(true);
    expect(e.message).toContain("'500ms', '30s'");
  });
});
