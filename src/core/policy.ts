/**
 * Execution policy shared by every way of running a task or node: retries with exponential
 * backoff and jitter, a per-attempt timeout, and a concurrency limit (optionally per key).
 */
import { parseDuration, type Duration } from './duration.js';
import { ConfigError } from './errors.js';

export interface RetryOptions {
  /** Retries after the first attempt (so `attempts = retries + 1`). Default 0. */
  retries?: number;
  /** Delay before the first retry. Default 1s. */
  initialDelay?: Duration;
  /** Largest delay between attempts. Default 1m. */
  maxDelay?: Duration;
  /** Growth of the delay per retry. Default 2. */
  factor?: number;
  /** Randomize each delay by up to this fraction (0…1) either way. Default 0.2. */
  jitter?: number;
}

export interface PolicyOptions {
  /** A count, or the full retry settings. */
  retries?: number | RetryOptions;
  /** Time allowed per attempt. The function's `signal` aborts at the timeout. */
  timeout?: Duration;
  /** How many may run at once, everywhere this task is used. */
  concurrency?: number;
  /** With `concurrency`: limit per key derived from the input instead of for the whole task. */
  concurrencyKey?: (input: never) => string;
  /** Higher runs first when more is queued than can run. Default 0. */
  priority?: number;
  /**
   * Labels a worker must all have to run this (`gpu`, `region-eu`): only workers started with
   * them take it. Default none: any worker.
   */
  labels?: readonly string[];
}

/** A policy with every default applied and every duration in milliseconds. */
export interface Policy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  jitter: number;
  timeoutMs: number | null;
  concurrency: number | null;
  concurrencyKey: ((input: unknown) => string) | null;
  priority: number;
  /** Sorted, without duplicates. */
  labels: readonly string[];
}

export const DEFAULT_POLICY: Policy = Object.freeze({
  maxAttempts: 1,
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  factor: 2,
  jitter: 0.2,
  timeoutMs: null,
  concurrency: null,
  concurrencyKey: null,
  priority: 0,
  labels: Object.freeze([]),
});

const LABEL = /^[A-Za-z0-9_][\w.:-]*$/;

/** Validates worker or work labels: sorted, without duplicates. `owner` names them in errors. */
export function checkLabels(owner: string, labels: unknown): string[] {
  if (!Array.isArray(labels)) {
    throw new ConfigError(
      'invalid_option',
      `${owner}: labels must be an array of strings, e.g. ['gpu', 'region-eu']`,
    );
  }
  for (const label of labels) {
    if (typeof label !== 'string' || !LABEL.test(label)) {
      throw new ConfigError(
        'invalid_option',
        `${owner}: label ${JSON.stringify(label)} is invalid; use letters, digits, '_', '-', '.' or ':'`,
      );
    }
  }
  return [...new Set(labels as string[])].sort();
}

function wholeNumber(value: unknown, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError(
      'invalid_option',
      `${option}: ${JSON.stringify(value)} must be a whole number >= ${min}`,
    );
  }
  return value;
}

/** Validates and fills in a policy. `owner` names the task or node in errors. */
export function resolvePolicy(owner: string, options: PolicyOptions | undefined): Policy {
  if (!options) return DEFAULT_POLICY;
  const retry: RetryOptions =
    typeof options.retries === 'number' ? { retries: options.retries } : (options.retries ?? {});
  const policy: Policy = { ...DEFAULT_POLICY };
  if (retry.retries !== undefined) {
    policy.maxAttempts = wholeNumber(retry.retries, `${owner}: retries`, 0) + 1;
  }
  if (retry.initialDelay !== undefined) {
    policy.initialDelayMs = parseDuration(retry.initialDelay, `${owner}: retries.initialDelay`);
  }
  if (retry.maxDelay !== undefined) {
    policy.maxDelayMs = parseDuration(retry.maxDelay, `${owner}: retries.maxDelay`);
  }
  if (retry.factor !== undefined) {
    if (typeof retry.factor !== 'number' || !(retry.factor >= 1)) {
      throw new ConfigError('invalid_option', `${owner}: retries.factor must be a number >= 1`);
    }
    policy.factor = retry.factor;
  }
  if (retry.jitter !== undefined) {
    if (typeof retry.jitter !== 'number' || retry.jitter < 0 || retry.jitter > 1) {
      throw new ConfigError('invalid_option', `${owner}: retries.jitter must be between 0 and 1`);
    }
    policy.jitter = retry.jitter;
  }
  if (options.timeout !== undefined) {
    policy.timeoutMs = parseDuration(options.timeout, `${owner}: timeout`);
  }
  if (options.concurrency !== undefined) {
    policy.concurrency = wholeNumber(options.concurrency, `${owner}: concurrency`, 1);
  }
  if (options.concurrencyKey !== undefined) {
    if (typeof options.concurrencyKey !== 'function') {
      throw new ConfigError(
        'invalid_option',
        `${owner}: concurrencyKey must be a function of the input returning a string`,
      );
    }
    if (policy.concurrency === null) {
      throw new ConfigError(
        'invalid_option',
        `${owner}: concurrencyKey needs concurrency (the limit per key), e.g. { concurrency: 2, concurrencyKey: (input) => input.customerId }`,
      );
    }
    policy.concurrencyKey = options.concurrencyKey as (input: unknown) => string;
  }
  if (options.priority !== undefined) {
    if (typeof options.priority !== 'number' || !Number.isFinite(options.priority)) {
      throw new ConfigError('invalid_option', `${owner}: priority must be a finite number`);
    }
    policy.priority = options.priority;
  }
  if (options.labels !== undefined) policy.labels = checkLabels(owner, options.labels);
  return policy;
}

/**
 * Delay before attempt `nextAttempt` (2 = first retry): `initial × factor^(n-2)`, capped at
 * `maxDelay`, then moved by up to ±jitter of itself (never past `maxDelay`).
 */
export function retryDelay(policy: Policy, nextAttempt: number, random = Math.random): number {
  const base = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.factor ** Math.max(0, nextAttempt - 2),
  );
  const spread = base * policy.jitter;
  const jittered = base - spread + random() * 2 * spread;
  return Math.max(0, Math.round(Math.min(policy.maxDelayMs, jittered)));
}
