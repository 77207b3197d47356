/**
 * `--param k=v` and `--input '{json}'` flags to a run's input: a pipeline's params or a
 * workflow's input. Values are text on the command line; the definition's zod schema says what
 * each should be: a string field keeps the raw text (so `--param day=2026` stays "2026"),
 * anything else is read as JSON when it parses (`n=3`, `flag=true`, `ids=[1,2]`), else kept as
 * text. The engine then validates the whole object with the schema, so a bad value is reported
 * by zod with the field's path.
 */
import type { z } from 'zod';
import type { Definition } from '../engine/registry.js';
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

/** What a definition takes as input, as the flags see it. */
export interface InputShape {
  /** `pipeline daily`, `workflow approval`. */
  what: string;
  /** `param` for a pipeline, `input field` for a workflow. */
  noun: string;
  schema: z.ZodType | null;
}

/** The input of a definition known by its kind, name and schema (a registered definition's). */
export function inputShapeOf(
  kind: Definition['kind'],
  name: string,
  schema: z.ZodType | null,
): InputShape {
  return kind === 'pipeline'
    ? { what: `pipeline ${name}`, noun: 'param', schema }
    : { what: `workflow ${name}`, noun: 'input field', schema };
}

function inputShape(definition: Definition | InputShape): InputShape {
  if ('what' in definition) return definition;
  return definition.kind === 'pipeline'
    ? { what: `pipeline ${definition.name}`, noun: 'param', schema: definition.spec.params }
    : { what: `workflow ${definition.name}`, noun: 'input field', schema: definition.input };
}

/**
 * The input of a run of `definition` from its flags: the `--input` JSON (if any), then each
 * `--param` on top of it.
 */
export function parseInput(
  definition: Definition | InputShape,
  flags: { param?: readonly string[]; input?: string },
): unknown {
  const base = flags.input === undefined ? undefined : parseJsonFlag('--input', flags.input);
  const params = flags.param ?? [];
  if (params.length === 0) return base;
  if (base !== undefined && (typeof base !== 'object' || base === null || Array.isArray(base))) {
    throw new UsageError(
      `--param needs an object input, but --input is ${JSON.stringify(base)}; put every field in --input`,
    );
  }
  const fromParams = parseParams(definition, params);
  return { ...(base as Record<string, unknown> | undefined), ...fromParams };
}

/** The params (or workflow input fields) object from `--param` flags. */
export function parseParams(
  definition: Definition | InputShape,
  flags: readonly string[],
): Record<string, unknown> {
  const { what, noun, schema } = inputShape(definition);
  const params: Record<string, unknown> = {};
  const shape = shapeOf(schema);
  const names = Object.keys(shape ?? {});
  for (const [key, raw] of splitParams(flags)) {
    if (key in params) {
      throw new UsageError(`--param ${key} is given twice; pass each ${noun} once`);
    }
    if (!schema) {
      throw new UsageError(`${what} takes no ${noun}s; remove --param ${key}=…`);
    }
    if (!shape) {
      throw new UsageError(
        `${what} takes an input that is not an object; pass it whole as JSON with --input '…' instead of --param`,
      );
    }
    const field = shape[key];
    if (!field) {
      throw new UsageError(
        `${what} has no ${noun} "${key}"; its ${noun}s are: ${names.join(', ') || '(none)'}`,
      );
    }
    params[key] = coerce(field, raw);
  }
  return params;
}

/** Parses a flag's JSON value; bad JSON is a usage error naming the flag. */
export function parseJsonFlag(flag: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(
      `${flag} is not valid JSON (${(error as Error).message}); quote it for the shell, e.g. ${flag} '{"approved":true}'`,
    );
  }
}

type Def = { type: string } & Record<string, unknown>;

function defOf(schema: unknown): Def | null {
  const def = (schema as { _zod?: { def?: Def } } | null)?._zod?.def;
  return def && typeof def.type === 'string' ? def : null;
}

/** The fields of an object schema, under optional/default/pipe wrappers; null otherwise. */
function shapeOf(schema: z.ZodType | null): Record<string, z.ZodType> | null {
  const def = core(schema);
  const shape = def?.type === 'object' ? def.shape : undefined;
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
