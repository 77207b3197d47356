/**
 * Failure notifications: a maintenance duty (the elected `weft server`, or `weft dev`) that
 * POSTs a JSON summary of every failed run to the webhooks that ask for it — the server's own
 * (`--on-failure`, for every definition) and those registered with the run's definition
 * (`onFailure(target, { webhook })`).
 *
 * It reads the runs that failed since its cursor (kept in the store: a new leader goes on from
 * there), sends each its notifications, and moves the cursor up to a few seconds behind the
 * last one (a failure stamped a moment earlier can commit later). A delivery is retried
 * a few times within the pass; one that still fails is reported and given up, so a webhook
 * that is down does not hold back the others. Each request carries `Idempotency-Key:
 * weft-run-failed:<run id>`: a notification sent again (a leader that died before moving the
 * cursor) can be recognised by the receiver.
 */
import type { SerializedError } from '../core/errors.js';
import type { Store } from '../store/contract/store.js';
import type { DefinitionRecord, RunRecord } from '../store/contract/types.js';
import type { MaintenanceDuty } from './maintenance.js';

/** The store cursor of this duty: the failure time from which the next pass reads. */
export const FAILURE_CURSOR = 'failure-notifications';

/** What a failure webhook receives. */
export interface FailureNotification {
  type: 'run.failed';
  run: {
    id: string;
    kind: RunRecord['kind'];
    definition: string;
    trigger: string;
    tags: string[];
    createdAt: number;
    startedAt: number | null;
    finishedAt: number | null;
    error: SerializedError | null;
  };
  /** The steps that failed, with their errors. */
  failedSteps: { key: string; attempt: number; error: SerializedError | null }[];
}

export interface FailureNotificationOptions {
  /** Webhooks told of every failed run. */
  webhooks?: readonly string[];
  /** Tries per delivery. Default 3. */
  attempts?: number;
  /** Time a delivery may take. Default 10 s. */
  timeoutMs?: number;
  /** Most runs read per pass. Default 100. */
  pageSize?: number;
  /** How far behind the last failure read each pass reads again. Default 5 s. */
  lookbackMs?: number;
  fetch?: typeof fetch;
  /** Told of each delivery that succeeded. */
  onSent?: (delivery: { runId: string; webhook: string }) => void;
  /** Where a delivery that failed for good is reported. Default `process.emitWarning`. */
  warn?: (message: string, error: unknown) => void;
}

function defaultWarn(message: string, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  process.emitWarning(`${message}: ${detail}`, { type: 'WeftWarning', code: 'WEFT_NOTIFY' });
}

function webhooksOf(definition: DefinitionRecord | undefined): string[] {
  const list = (definition?.graph as { failureWebhooks?: unknown } | null)?.failureWebhooks;
  return Array.isArray(list) ? list.filter((u): u is string => typeof u === 'string') : [];
}

async function summary(store: Store, run: RunRecord): Promise<FailureNotification> {
  const steps = await store.listSteps(run.id);
  return {
    type: 'run.failed',
    run: {
      id: run.id,
      kind: run.kind,
      definition: run.definition,
      trigger: run.trigger,
      tags: run.tags,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      error: run.error,
    },
    failedSteps: steps
      .filter((s) => s.status === 'failed')
      .map((s) => ({ key: s.key, attempt: s.attempt, error: s.error })),
  };
}

export function failureNotifications(options: FailureNotificationOptions = {}): MaintenanceDuty {
  const global = options.webhooks ?? [];
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pageSize = options.pageSize ?? 100;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const warn = options.warn ?? defaultWarn;
  const lookbackMs = options.lookbackMs ?? 5000;
  /** Runs this process told of lately: the last few seconds are read again. */
  const told = new Map<string, number>();

  async function deliver(webhook: string, body: FailureNotification): Promise<void> {
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await doFetch(webhook, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `weft-run-failed:${body.run.id}`,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return;
        last = new Error(`HTTP ${res.status}`);
        if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
      } catch (error) {
        last = error;
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
    }
    throw last;
  }

  return {
    name: 'send failure notifications',
    async run({ store, now, signal }) {
      const definitions = new Map((await store.listDefinitions()).map((d) => [d.name, d]));
      const wanted = (run: RunRecord) => [
        ...new Set([...global, ...webhooksOf(definitions.get(run.definition))]),
      ];
      if (global.length === 0 && ![...definitions.values()].some((d) => webhooksOf(d).length)) {
        return;
      }
      // Before the first pass, failures count from now: runs that failed before anyone asked to
      // be told are not reported.
      const stored = await store.getCursor(FAILURE_CURSOR);
      const cursor = stored ?? now;
      const runs = await store.listFailedRunsSince(cursor, pageSize);
      for (const run of runs) {
        if (signal.aborted) return;
        if (told.has(run.id)) continue;
        const webhooks = wanted(run);
        if (webhooks.length) {
          const body = await summary(store, run);
          for (const webhook of webhooks) {
            try {
              await deliver(webhook, body);
              options.onSent?.({ runId: run.id, webhook });
            } catch (error) {
              warn(`could not tell ${webhook} that run ${run.id} failed`, error);
            }
          }
        }
        told.set(run.id, run.finishedAt ?? cursor);
      }
      // The cursor stays a few seconds behind the last failure read: a run whose failure was
      // stamped a moment earlier can commit after it (a full page moves on regardless).
      const last = runs.at(-1)?.finishedAt ?? cursor;
      const next = runs.length === pageSize ? last : Math.max(cursor, last - lookbackMs);
      if (next > cursor || stored === null) await store.setCursor(FAILURE_CURSOR, next, now);
      for (const [id, at] of told) if (at < next) told.delete(id);
    },
  };
}
