/** Validating run input against a zod schema, with errors that name the field. */
import type { z } from 'zod';
import { InputError } from '../core/errors.js';

/** Parses `value` with `schema`; throws an {@link InputError} with each issue's path. */
export function validateInput(what: string, schema: z.ZodType | null, value: unknown): unknown {
  if (!schema) return value ?? {};
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new InputError(
    what,
    result.error.issues.map((i) => ({
      path: i.path.filter((p): p is string | number => typeof p !== 'symbol'),
      message: i.message,
    })),
  );
}
