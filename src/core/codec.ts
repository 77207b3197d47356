/**
 * The codec that turns step outputs, params and journal entries into text for the store.
 *
 * JSON, plus the values JSON loses: `Date`, `Map`, `Set`, `BigInt`, bytes (`Uint8Array`,
 * and so `Buffer`), `undefined`, and non-finite numbers. Special values are written as
 * `{"$t": tag, "v": value}`; a user object that itself has a `$t` key is escaped, so any
 * plain data round-trips. Functions, symbols and cycles are refused with a {@link CodecError}
 * naming the path, never silently dropped.
 */
import { CodecError } from './errors.js';

export type Encoded = string;

export interface CodecOptions {
  /** Largest encoding accepted, in bytes. Default 16 MiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

const TAG = '$t';

function tagged(t: string, v: unknown): Record<string, unknown> {
  return { [TAG]: t, v };
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function toPlain(value: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : tagged('Num', String(value));
    case 'undefined':
      return tagged('Undef', 0);
    case 'bigint':
      return tagged('BigInt', value.toString());
    case 'function':
    case 'symbol':
      throw new CodecError(
        'unencodable',
        `cannot encode a ${typeof value} at ${path}; return plain data (objects, arrays, strings, numbers, Date, Map, Set, BigInt, bytes)`,
      );
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) {
    throw new CodecError('unencodable', `cannot encode a circular reference at ${path}`);
  }
  if (obj instanceof Date) {
    return tagged('Date', Number.isNaN(obj.getTime()) ? null : obj.toISOString());
  }
  if (obj instanceof Uint8Array) return tagged('Bytes', bytesToBase64(obj));
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      const out = new Array<unknown>(obj.length);
      for (let i = 0; i < obj.length; i++) out[i] = toPlain(obj[i], `${path}[${i}]`, seen);
      return out;
    }
    if (obj instanceof Map) {
      const entries: unknown[] = [];
      let i = 0;
      for (const [k, v] of obj) {
        entries.push([
          toPlain(k, `${path}<key ${i}>`, seen),
          toPlain(v, `${path}<value ${i}>`, seen),
        ]);
        i++;
      }
      return tagged('Map', entries);
    }
    if (obj instanceof Set) {
      const items: unknown[] = [];
      let i = 0;
      for (const v of obj) items.push(toPlain(v, `${path}<item ${i++}>`, seen));
      return tagged('Set', items);
    }
    if (obj instanceof RegExp) return tagged('RegExp', [obj.source, obj.flags]);
    if (obj instanceof Error) {
      return tagged('Error', { name: obj.name, message: obj.message, stack: obj.stack });
    }
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return toPlain(toJSON.call(obj), path, seen);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      out[key] = toPlain((obj as Record<string, unknown>)[key], `${path}.${key}`, seen);
    }
    return TAG in out ? tagged('Obj', out) : out;
  } finally {
    seen.delete(obj);
  }
}

function fromPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = fromPlain(value[i]);
    return value;
  }
  const obj = value as Record<string, unknown>;
  const tag = obj[TAG];
  if (typeof tag === 'string' && 'v' in obj) {
    const v = obj.v;
    switch (tag) {
      case 'Undef':
        return undefined;
      case 'Num':
        return Number(v);
      case 'BigInt':
        return BigInt(v as string);
      case 'Date':
        return new Date(v === null ? Number.NaN : (v as string));
      case 'Bytes':
        return base64ToBytes(v as string);
      case 'Map':
        return new Map((v as [unknown, unknown][]).map(([k, x]) => [fromPlain(k), fromPlain(x)]));
      case 'Set':
        return new Set((v as unknown[]).map(fromPlain));
      case 'RegExp': {
        const [source, flags] = v as [string, string];
        return new RegExp(source, flags);
      }
      case 'Error': {
        const e = v as { name: string; message: string; stack?: string };
        const err = new Error(e.message);
        err.name = e.name;
        if (e.stack) err.stack = e.stack;
        return err;
      }
      case 'Obj': {
        const inner = v as Record<string, unknown>;
        for (const key of Object.keys(inner)) inner[key] = fromPlain(inner[key]);
        return inner;
      }
    }
  }
  for (const key of Object.keys(obj)) obj[key] = fromPlain(obj[key]);
  return obj;
}

function isPlainJson(value: unknown, depth: number): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (depth > 3) return false;
  if (Array.isArray(value)) {
    return value.length <= 16 && value.every((v) => isPlainJson(v, depth + 1));
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  if (keys.length > 16 || keys.includes(TAG)) return false;
  return keys.every((k) => isPlainJson((value as Record<string, unknown>)[k], depth + 1));
}

/**
 * Encodes a value. `what` names it in errors ("output of node cleaned"). Small plain JSON takes
 * a fast path straight to `JSON.stringify`.
 */
export function encode(value: unknown, what = 'value', options?: CodecOptions): Encoded {
  let text: string;
  try {
    text = isPlainJson(value, 0)
      ? JSON.stringify(value)
      : JSON.stringify(toPlain(value, what, new Set()));
  } catch (error) {
    if (error instanceof CodecError) throw error;
    throw new CodecError('unencodable', `cannot encode ${what}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const max = options?.maxBytes ?? DEFAULT_MAX_BYTES;
  if (text.length * 3 > max) {
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > max) {
      throw new CodecError(
        'too_large',
        `${what} encodes to ${bytes} bytes, over the limit of ${max}; store large data elsewhere (a file, a bucket) and return a reference to it, or raise maxOutputBytes`,
      );
    }
  }
  return text;
}

/** Decodes what {@link encode} produced. */
export function decode<T = unknown>(text: Encoded): T {
  return fromPlain(JSON.parse(text)) as T;
}
