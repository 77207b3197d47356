import { ConfigError } from './errors.js';

/** A duration in milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`. */
export type Duration = number | `${number}${DurationUnit}` | `${number} ${DurationUnit}`;
type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w';

const UNITS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

/**
 * Parses a {@link Duration} into milliseconds. `option` names the setting in the error, so a
 * typo such as `timeout: '5 mins'` says which option is wrong and what it accepts.
 */
export function parseDuration(value: unknown, option: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim());
    if (match) return Number(match[1]) * UNITS[match[2] as DurationUnit];
  }
  throw new ConfigError(
    'invalid_duration',
    `${option}: ${JSON.stringify(value)} is not a duration; use milliseconds (a number >= 0) or a string such as '500ms', '30s', '5m', '1h', '1d'`,
  );
}
