/**
 * Turns a definition's JSON Schema (as zod's `toJSONSchema` writes it) into form fields, and a
 * filled-in form back into a value, with the checks a browser can make before the server does.
 * What the form cannot edit field by field (nested arrays, objects in arrays, `oneOf` of
 * objects…) becomes a JSON textarea for that field alone.
 */

type Json = Record<string, unknown>;
type Primitive = string | number | boolean | null;

interface FieldBase {
  /** Dotted path from the top: `a.b`. */
  path: string;
  name: string;
  title: string | null;
  description: string | null;
  required: boolean;
  default: unknown;
}

export interface StringRules {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
}

export interface NumberRules {
  integer: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** A single value the form can type in: what list items and unions are made of. */
export type ScalarSpec =
  | ({ kind: 'string' } & StringRules)
  | ({ kind: 'number' } & NumberRules)
  | { kind: 'boolean' }
  | { kind: 'enum'; options: Primitive[] };

export type FieldSpec = FieldBase &
  (
    | ScalarSpec
    | { kind: 'object'; fields: FieldSpec[] }
    | { kind: 'list'; item: ScalarSpec; minItems?: number; maxItems?: number }
    /** `anyOf` of scalars (`number | '3d'`): typed as text, read as the first that fits. */
    | { kind: 'union'; variants: ScalarSpec[] }
    | { kind: 'json' }
  );

/** What an input holds: text for most, a flag for a checkbox. */
export type RawValue = string | boolean;
export type FormValues = Record<string, RawValue>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Fields of an object schema, or null when the schema is not one the form can lay out. */
export function schemaFields(schema: unknown): FieldSpec[] | null {
  if (!isObject(schema) || !isObject(schema.properties)) {
    return isObject(schema) && schema.type === 'object' ? [] : null;
  }
  return objectFields(schema, '');
}

function objectFields(schema: Json, prefix: string): FieldSpec[] {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(properties).map(([name, sub]) =>
    field(isObject(sub) ? sub : {}, name, prefix ? `${prefix}.${name}` : name, required.has(name)),
  );
}

function scalar(schema: Json): ScalarSpec | null {
  if (Array.isArray(schema.enum)) return { kind: 'enum', options: schema.enum as Primitive[] };
  if ('const' in schema) return { kind: 'enum', options: [schema.const as Primitive] };
  const type = schema.type;
  if (type === 'string') {
    return {
      kind: 'string',
      minLength: num(schema.minLength),
      maxLength: num(schema.maxLength),
      pattern: typeof schema.pattern === 'string' ? schema.pattern : undefined,
      format: typeof schema.format === 'string' ? schema.format : undefined,
    };
  }
  if (type === 'number' || type === 'integer') {
    return {
      kind: 'number',
      integer: type === 'integer',
      minimum: num(schema.minimum),
      maximum: num(schema.maximum),
      exclusiveMinimum: num(schema.exclusiveMinimum),
      exclusiveMaximum: num(schema.exclusiveMaximum),
    };
  }
  if (type === 'boolean') return { kind: 'boolean' };
  return null;
}

function field(schema: Json, name: string, path: string, required: boolean): FieldSpec {
  const base: FieldBase = {
    path,
    name,
    title: typeof schema.title === 'string' ? schema.title : null,
    description: typeof schema.description === 'string' ? schema.description : null,
    required,
    default: schema.default,
  };
  const one = scalar(schema);
  if (one) return { ...base, ...one };
  if (schema.type === 'object' && isObject(schema.properties)) {
    return { ...base, kind: 'object', fields: objectFields(schema, path) };
  }
  if (schema.type === 'array' && isObject(schema.items)) {
    const item = scalar(schema.items);
    if (item && item.kind !== 'boolean') {
      return {
        ...base,
        kind: 'list',
        item,
        minItems: num(schema.minItems),
        maxItems: num(schema.maxItems),
      };
    }
  }
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) {
    const variants = union.map((v) => (isObject(v) ? scalar(v) : null));
    const nullable = union.filter((v) => isObject(v) && v.type === 'null').length;
    const kept = variants.filter((v): v is ScalarSpec => v !== null);
    if (kept.length + nullable === union.length && kept.length > 0) {
      // `T | null` is an optional T here: an empty input sends nothing.
      if (kept.length === 1) return { ...base, ...kept[0]! };
      return { ...base, kind: 'union', variants: kept };
    }
  }
  return { ...base, kind: 'json' };
}

/** Every leaf field, depth first: what the form has an input for. */
export function leafFields(fields: readonly FieldSpec[]): FieldSpec[] {
  return fields.flatMap((f) => (f.kind === 'object' ? leafFields(f.fields) : [f]));
}

/** The inputs' starting values: defaults where the schema has them, else empty. */
export function initialValues(fields: readonly FieldSpec[]): FormValues {
  const values: FormValues = {};
  for (const f of leafFields(fields)) values[f.path] = initialRaw(f);
  return values;
}

function initialRaw(f: FieldSpec): RawValue {
  const d = f.default;
  switch (f.kind) {
    case 'boolean':
      return d === true;
    case 'list':
      return Array.isArray(d) ? d.map(String).join(', ') : '';
    case 'json':
      return d === undefined ? '' : JSON.stringify(d, null, 2);
    case 'enum':
      return d === undefined ? '' : JSON.stringify(d);
    default:
      if (typeof d === 'string') return d;
      return d === undefined || d === null ? '' : JSON.stringify(d);
  }
}

/** Reads one scalar from text, or says what is wrong with it. */
function readScalar(spec: ScalarSpec, text: string): { value: unknown } | { error: string } {
  switch (spec.kind) {
    case 'string': {
      if (spec.minLength !== undefined && text.length < spec.minLength) {
        return {
          error:
            spec.minLength === 1 ? 'must not be empty' : `at least ${spec.minLength} characters`,
        };
      }
      if (spec.maxLength !== undefined && text.length > spec.maxLength) {
        return { error: `at most ${spec.maxLength} characters` };
      }
      if (spec.pattern !== undefined) {
        try {
          if (!new RegExp(spec.pattern, 'u').test(text))
            return { error: `must match ${spec.pattern}` };
        } catch {
          // A pattern JavaScript cannot compile is left to the server.
        }
      }
      if (spec.format === 'date-time' && Number.isNaN(Date.parse(text))) {
        return { error: 'must be a date and time (2026-01-02T03:04:05Z)' };
      }
      if (spec.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(text)) {
        return { error: 'must be a date (2026-01-02)' };
      }
      return { value: text };
    }
    case 'number': {
      const n = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(n)) return { error: 'must be a number' };
      if (spec.integer && !Number.isInteger(n)) return { error: 'must be a whole number' };
      if (spec.minimum !== undefined && n < spec.minimum)
        return { error: `must be ≥ ${spec.minimum}` };
      if (spec.maximum !== undefined && n > spec.maximum)
        return { error: `must be ≤ ${spec.maximum}` };
      if (spec.exclusiveMinimum !== undefined && n <= spec.exclusiveMinimum) {
        return { error: `must be > ${spec.exclusiveMinimum}` };
      }
      if (spec.exclusiveMaximum !== undefined && n >= spec.exclusiveMaximum) {
        return { error: `must be < ${spec.exclusiveMaximum}` };
      }
      return { value: n };
    }
    case 'boolean':
      if (text === 'true' || text === 'false') return { value: text === 'true' };
      return { error: 'must be true or false' };
    case 'enum': {
      const match = spec.options.find((o) => String(o) === text);
      if (match !== undefined) return { value: match };
      return { error: `must be one of ${spec.options.map(String).join(', ')}` };
    }
  }
}

function readField(f: FieldSpec, raw: RawValue): { value: unknown } | { error: string } | null {
  if (f.kind === 'boolean') return { value: raw === true };
  const text = typeof raw === 'string' ? raw : '';
  if (text.trim() === '') return f.required ? { error: 'required' } : null;
  switch (f.kind) {
    case 'enum':
      try {
        return { value: JSON.parse(text) as unknown };
      } catch {
        return { error: 'choose a value' };
      }
    case 'string':
    case 'number':
      return readScalar(f, text);
    case 'union': {
      const errors: string[] = [];
      for (const variant of f.variants) {
        const read = readScalar(variant, text);
        if ('value' in read) return read;
        errors.push(read.error);
      }
      return { error: errors.join(', or ') };
    }
    case 'list': {
      const items = text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const values: unknown[] = [];
      for (const [i, item] of items.entries()) {
        const read = readScalar(f.item, item);
        if ('error' in read) return { error: `item ${i + 1} (${item}) ${read.error}` };
        values.push(read.value);
      }
      if (f.minItems !== undefined && values.length < f.minItems) {
        return values.length === 0 && !f.required
          ? null
          : { error: `at least ${f.minItems} item${f.minItems === 1 ? '' : 's'}` };
      }
      if (f.maxItems !== undefined && values.length > f.maxItems) {
        return { error: `at most ${f.maxItems} items` };
      }
      return { value: values };
    }
    case 'json':
      try {
        return { value: JSON.parse(text) as unknown };
      } catch (error) {
        return { error: `not valid JSON: ${(error as Error).message}` };
      }
    case 'object':
      return null;
  }
}

/** The value the form describes, or the message of each field that is wrong. */
export function buildValue(
  fields: readonly FieldSpec[],
  values: FormValues,
): { value: Record<string, unknown>; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const build = (list: readonly FieldSpec[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const f of list) {
      if (f.kind === 'object') {
        const inner = build(f.fields);
        if (Object.keys(inner).length > 0 || f.required) out[f.name] = inner;
        continue;
      }
      const read = readField(f, values[f.path] ?? '');
      if (read === null) continue;
      if ('error' in read) errors[f.path] = read.error;
      else out[f.name] = read.value;
    }
    return out;
  };
  const value = build(fields);
  return { value, errors };
}

/** The field an API issue is about (its path, `["rows", 2, "id"]`), with its message. */
export function fieldOfIssue(
  fields: readonly FieldSpec[],
  path: readonly (string | number)[],
  message: string,
): { path: string; text: string } | null {
  return fieldAt(fields, path.join('.'), message);
}

/** The field at `where` (`a.b`, `items.0`) or the field holding it, with `text` about it. */
function fieldAt(
  fields: readonly FieldSpec[],
  where: string,
  text: string,
): { path: string; text: string } | null {
  const paths = leafFields(fields)
    .map((f) => f.path)
    .sort((a, b) => b.length - a.length);
  // `islands.0` is about the field `islands`: its item 0.
  const path = paths.find((p) => where === p || where.startsWith(`${p}.`));
  if (!path) return null;
  if (where === path) return { path, text };
  const rest = where.slice(path.length + 1);
  const item = /^\d+/.exec(rest);
  return {
    path,
    text: `${item ? `item ${Number(item[0]) + 1}${rest.slice(item[0].length)}` : rest}: ${text}`,
  };
}

/**
 * The field a server error is about, and what it says of it. The server names the path after
 * the definition (`pipeline daily: invalid params: items.0: Too big…`); failing that, the
 * longest field path the message mentions wins, so `a.b` beats `a`.
 */
export function fieldOfMessage(
  fields: readonly FieldSpec[],
  message: string,
): { path: string; text: string } | null {
  const named = /invalid (?:params|input): ([\w.$-]+): (.*)$/s.exec(message);
  if (named) {
    const found = fieldAt(fields, named[1]!, named[2]!);
    if (found) return found;
  }
  const paths = leafFields(fields)
    .map((f) => f.path)
    .sort((a, b) => b.length - a.length);
  for (const path of paths) {
    const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`(^|[^\\w.])(params\\.|input\\.)?${escaped}($|[^\\w])`).test(message)) {
      return { path, text: message };
    }
  }
  return null;
}
