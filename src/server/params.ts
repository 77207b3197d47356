/**
 * Checks of what a request carries — query values and JSON body fields — that fail with a 400
 * naming the field and what it accepts.
 */
import { HttpError } from './http.js';
import type { ValueMode } from './views.js';

function badQuery(name: string, expected: string, got: string): HttpError {
  return new HttpError(
    400,
    'invalid_query',
    `query parameter ${name} must be ${expected}, got ${JSON.stringify(got)}`,
  );
}

/** A query value from a fixed set, or undefined when absent. */
export function queryEnum<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw badQuery(name, `one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

/** A whole number in `[min, max]`, or `fallback` when absent. */
export function queryInt(
  query: URLSearchParams,
  name: string,
  range: { min: number; max: number },
  fallback: number,
): number;
export function queryInt(
  query: URLSearchParams,
  name: string,
  range: { min: number; max: number },
): number | undefined;
export function queryInt(
  query: URLSearchParams,
  name: string,
  range: { min: number; max: number },
  fallback?: number,
): number | undefined {
  const value = query.get(name);
  if (value === null) return fallback;
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw badQuery(name, `a whole number from ${range.min} to ${range.max}`, value);
  }
  return n;
}

/** A non-empty query value, or undefined when absent. */
export function queryString(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (value === '') throw badQuery(name, 'a non-empty string (or left out)', value);
  return value;
}

/** How values are returned: `?values=json` (default) or `?values=tagged`. */
export function queryValueMode(query: URLSearchParams): ValueMode {
  return queryEnum(query, 'values', ['json', 'tagged'] as const) ?? 'json';
}

function badBody(message: string): HttpError {
  return new HttpError(400, 'invalid_body', message);
}

/** A JSON body that must be an object; an empty body is `{}` when `optional`. */
export function bodyObject(body: unknown, optional = false): Record<string, unknown> {
  if (body === undefined && optional) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badBody(
      `request body must be a JSON object${body === undefined ? ' (it is empty)' : ''}`,
    );
  }
  return body as Record<string, unknown>;
}

/** An optional string field of a body: non-empty, when given, unless `allowEmpty`. */
export function bodyString(
  body: Record<string, unknown>,
  name: string,
  options: { required?: boolean; allowEmpty?: boolean } = {},
): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (options.required) throw badBody(`field ${name} is required (a non-empty string)`);
    return undefined;
  }
  if (typeof value !== 'string' || (value === '' && !options.allowEmpty)) {
    throw badBody(`field ${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}
