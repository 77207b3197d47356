/**
 * Every error a user must handle, in one module.
 *
 * Two families:
 * - {@link WeftError} and its subclasses are local programming or configuration errors, thrown
 *   at once (a bad definition, a bad param, an unknown run). They carry a stable string `code`.
 * - Failures cross the durable boundary: a step's error is persisted as a
 *   {@link SerializedError} (name, message, stack, `code`, `retryable`, a `cause` chain) and
 *   comes back as a {@link StepFailure}. Users steer retries by throwing
 *   {@link NonRetryableError}.
 */

/** Base of all errors Weft throws. `code` is stable and safe to branch on. */
export class WeftError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad option or setting (a duration that doesn't parse, a negative retry count…). */
export class ConfigError extends WeftError {}

/** A pipeline or workflow definition that can't be run; `nodes` names the culprits. */
export class DefinitionError extends WeftError {
  readonly definition: string;
  readonly nodes: readonly string[];
  constructor(code: string, definition: string, nodes: readonly string[], message: string) {
    super(code, message);
    this.definition = definition;
    this.nodes = nodes;
  }
}

/** One problem with run input, located by its path (`['day']`, `['filters', 0, 'min']`). */
export interface InputIssue {
  path: readonly (string | number)[];
  message: string;
}

/** Params or input rejected at the boundary, before anything ran. */
export class InputError extends WeftError {
  readonly issues: readonly InputIssue[];
  constructor(what: string, issues: readonly InputIssue[]) {
    const detail = issues
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    super('invalid_input', `${what}: ${detail}`);
    this.issues = issues;
  }
}

/** Something looked up by id or name does not exist. */
export class NotFoundError extends WeftError {
  constructor(what: string, id: string, hint?: string) {
    super('not_found', `${what} ${JSON.stringify(id)} not found${hint ? `; ${hint}` : ''}`);
  }
}

/** A state change the state machine does not allow (see `states.ts`). */
export class InvalidTransitionError extends WeftError {
  constructor(what: string, from: string, to: string) {
    super('invalid_transition', `${what} cannot go from ${from} to ${to}`);
  }
}

/** A value the codec can't encode, or an encoding over the size limit. */
export class CodecError extends WeftError {}

/** The database was migrated by a newer Weft than this one. */
export class StoreVersionError extends WeftError {}

// ---------------------------------------------------------------------------------------------
// Failures: errors raised while running user code, persisted with the step.

/** The JSON shape a failure is stored in. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  retryable?: boolean;
  cause?: SerializedError;
}

/** Throw this from a task or node to fail at once, without further retries. */
export class NonRetryableError extends WeftError {
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'non_retryable', message, options);
  }
}

/** An attempt ran past its `timeout`. Counts as a failed attempt, so it is retried. */
export class TimeoutError extends WeftError {
  readonly retryable = true;
  constructor(what: string, ms: number) {
    super('timeout', `${what} timed out after ${ms} ms`);
  }
}

/** The run was cancelled while this work was in progress. */
export class CancelledError extends WeftError {
  readonly retryable = false;
  constructor(what: string) {
    super('cancelled', `${what} was cancelled`);
  }
}

/** A failure read back from the store: the original error's name, message, stack and code. */
export class StepFailure extends Error {
  readonly code: string | undefined;
  readonly retryable: boolean | undefined;
  constructor(data: SerializedError) {
    super(data.message, data.cause ? { cause: new StepFailure(data.cause) } : undefined);
    this.name = data.name;
    this.code = data.code;
    this.retryable = data.retryable;
    if (data.stack) this.stack = data.stack;
  }
}

/** A run ended failed. `failed` lists each failed step with its error. */
export class RunFailedError extends WeftError {
  readonly runId: string;
  readonly failed: readonly { step: string; error: SerializedError }[];
  constructor(runId: string, failed: readonly { step: string; error: SerializedError }[]) {
    const names = failed.map((f) => f.step).join(', ');
    const first = failed[0];
    super(
      'run_failed',
      `run ${runId} failed: ${failed.length} step(s) failed: ${names}` +
        (first ? ` (${first.step}: ${first.error.message})` : ''),
    );
    this.runId = runId;
    this.failed = failed;
  }
}

/** A run ended cancelled. */
export class RunCancelledError extends WeftError {
  readonly runId: string;
  constructor(runId: string) {
    super('run_cancelled', `run ${runId} was cancelled`);
    this.runId = runId;
  }
}

/** Turns anything thrown into its persistable form, keeping the cause chain (4 deep). */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    if (error.stack) out.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    const retryable = (error as { retryable?: unknown }).retryable;
    if (typeof retryable === 'boolean') out.retryable = retryable;
    if (error.cause !== undefined && depth < 4) out.cause = serializeError(error.cause, depth + 1);
    return out;
  }
  let message: string;
  try {
    message = typeof error === 'string' ? error : JSON.stringify(error);
  } catch {
    message = String(error);
  }
  return { name: 'NonErrorThrown', message: message ?? String(error) };
}

/** Whether a failure may be retried: anything not marked `retryable: false`. */
export function isRetryable(error: unknown): boolean {
  if (error && typeof error === 'object' && 'retryable' in error) {
    return error.retryable !== false;
  }
  return true;
}

/**
 * On resume, the workflow asked for a different step than its journal recorded at that
 * position: the code changed while the run was in progress, or depends on something that
 * differs between executions in a way that changes which steps run.
 */
export class NonDeterminismError extends WeftError {
  readonly retryable = false;
  readonly runId: string;
  readonly position: number;
  readonly expected: string;
  readonly actual: string;
  constructor(runId: string, position: number, expected: string, actual: string) {
    super(
      'non_determinism',
      `run ${runId}: at position ${position} the journal has ${expected} but the workflow now asks for ${actual}; ` +
        'the steps a run asks for must come in the same order on every replay (keep old code paths for runs in progress, or cancel and restart them)',
    );
    this.runId = runId;
    this.position = position;
    this.expected = expected;
    this.actual = actual;
  }
}
