/**
 * `--param k=v` flags to a params object. Values are text on the command line; the pipeline's
 * zod schema says what each should be: a string field keeps the raw text (so `--param day=2026`
 * stays "2026"), anything else is read as JSON when it parses (`n=3`, `flag=true`,
 * `ids=[1,2]`), else kept as text. The engine then validates the whole object with the schema,
 * so a bad value is reported by zod with the field's path.
 */
import type { z } from 'zod';
import type { PipelineSpec } from '../sdk/pipeline.js';
import { UsageError } from './usage-error.js';

/** Splits `k=v` flags (on the first `=`); rejects a flag without one. */
export function splitParams(flags: readonly string[]): [string, string][] {
  return flags.map((flag) => {
    const eq = flag.indexOf('=');
    const key = eq === -1 ? '' : flag.slice(0, eq).trim();
    if (eq <= 0 || key === '') {
      throw new UsageError(
        `--param ${JSON.stringify(flag)} is not key=value; write it as --param name=value, e.g. --param day=2026-01-01`,
      );
    }
    return [key, flag.slice(eq + 1)];
  });
}

/** The params object for `spec` from `--param` flags. */
export function parseParams(spec: PipelineSpec, flags: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  const shape = shapeOf(spec.params);
  for (const [key, raw] of splitParams(flags)) {
    if (key in params) {
      throw new UsageError(`--param ${key} is given twice; pass each param once`);
    }
    if (!spec.params) {
      throw new UsageError(`pipeline ${spec.name} takes no params; remove --param ${key}=…`);
    }
    const field = shape?.[key];
    if (shape && !field) {
      throw new UsageError(
        `pipeline ${spec.name} has no param "${key}"; its params are: ${spec.paramNames.join(', ') || '(none)'}`,
      );
    }
    params[key] = field ? coerce(field, raw) : raw;
  }
  return params;
}

type Def = { type: string } & Record<string, unknown>;

function defOf(schema: unknown): Def | null {
  const def = (schema as { _zod?: { def?: Def } } | null)?._zod?.def;
  return def && typeof def.type === 'string' ? def : null;
}

function shapeOf(schema: z.ZodType | null): Record<string, z.ZodType> | null {
  const shape = (schema as { shape?: unknown } | null)?.shape;
  return typeof shape === 'object' && shape !== null ? (shape as Record<string, z.ZodType>) : null;
}

const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'catch',
  'readonly',
  'nonoptional',
]);

/** The schema under optional/default/pipe/lazy wrappers: what the value must look like. */
function core(schema: unknown): Def | null {
  let def = defOf(schema);
  for (let depth = 0; def && depth < 20; depth++) {
    if (WRAPPERS.has(def.type)) def = defOf(def.innerType);
    else if (def.type === 'pipe') def = defOf(def.in);
    else if (def.type === 'lazy' && typeof def.getter === 'function')
      def = defOf((def.getter as () => unknown)());
    else return def;
  }
  return def;
}

function isTextual(def: Def): boolean {
  switch (def.type) {
    case 'string':
    case 'template_literal':
      return true;
    case 'enum':
      return Object.values(def.entries as Record<string, unknown>).every(
        (v) => typeof v === 'string',
      );
    case 'literal':
      return (def.values as unknown[]).every((v) => typeof v === 'string');
    default:
      return false;
  }
}

function coerce(field: z.ZodType, raw: string): unknown {
  const def = core(field);
  if (def && isTextual(def)) return raw;
  if (def?.type === 'date') {
    const date = new Date(raw);
    return Number.isNaN(date.getTime()) ? raw : date;
  }
  if (def?.type === 'bigint' && /^-?\d+$/.test(raw.trim())) return BigInt(raw.trim());
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw;
  }
  // A union of text and something else (`string | number`): prefer the JSON reading, but keep
  // the text when only the text fits.
  if (!field.safeParse(parsed).success && field.safeParse(raw).success) return raw;
  return parsed;
}
