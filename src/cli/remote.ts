/**
 * `--server URL`: the CLI's read commands (`weft runs`, `weft show`) and `weft trigger` against
 * a remote `weft server` through its HTTP API instead of a database. The API's tagged values
 * are the codec's text as JSON, so what comes back is turned into the store's own records and
 * printed by the same code as local runs.
 */
import {
  ApiError,
  createClient,
  type RunView,
  type StepView,
  type WeftClient,
} from '../client/index.js';
import type { Encoded } from '../core/codec.js';
import type { Store } from '../store/contract/store.js';
import type { ListRunsQuery, LogRecord, RunRecord, StepRecord } from '../store/contract/types.js';
import { UsageError } from './usage-error.js';

/** What `weft runs` and `weft show` read: a store, or a server that stands in for one. */
export type RunReader = Pick<
  Store,
  'getRun' | 'listRuns' | 'listSteps' | 'listAttempts' | 'listLogs' | 'listChildRuns' | 'close'
>;

export interface ServerFlags {
  server?: string;
  token?: string;
}

/** A client of `--server` (checked: an http(s) URL), with `--token` or `$WEFT_TOKEN`. */
export function serverClient(flags: ServerFlags & { server: string }): WeftClient {
  let url: URL;
  try {
    url = new URL(flags.server);
  } catch {
    throw new UsageError(
      `--server ${JSON.stringify(flags.server)} is not a URL; e.g. --server http://localhost:8080`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `--server must be an http:// or https:// URL, got ${JSON.stringify(flags.server)}`,
    );
  }
  const token = flags.token ?? (process.env.WEFT_TOKEN || undefined);
  return createClient({ baseUrl: url.toString(), ...(token ? { token } : {}) });
}

/** An API error as the one line the CLI prints (401 and unreachable servers say what to do). */
export function remoteError(error: unknown, server: string): unknown {
  if (!(error instanceof ApiError)) return error;
  if (error.status === 0) return new UsageError(`${error.message}; is weft server running there?`);
  if (error.status === 401) {
    return new UsageError(
      `${server} needs a token: pass --token <token> (or set WEFT_TOKEN): ${error.message}`,
    );
  }
  return new UsageError(`${server}: ${error.message}`);
}

const tagged = { values: 'tagged' } as const;

/** A tagged value from the API back to the codec's text. */
function encoded(value: unknown): Encoded {
  return JSON.stringify(value === undefined ? null : value);
}

export function runRecord(view: RunView): RunRecord {
  return { ...view, input: encoded(view.input) };
}

async function stepRecord(client: WeftClient, view: StepView): Promise<StepRecord> {
  const { outputBytes, outputOmitted, output, ...rest } = view;
  let value = output;
  if (outputOmitted) value = (await client.output(view.runId, view.key, tagged)).output;
  return { ...rest, output: outputBytes === null ? null : encoded(value) };
}

/** Most rows the API returns in one page. */
const PAGE = { runs: 500, logs: 10_000 };

export function remoteReader(client: WeftClient): RunReader {
  const notFound = (error: unknown) => error instanceof ApiError && error.status === 404;
  return {
    async getRun(id) {
      try {
        return runRecord((await client.run(id, tagged)).run);
      } catch (error) {
        if (notFound(error)) return null;
        throw error;
      }
    },
    async listRuns(query: ListRunsQuery = {}) {
      const wanted = query.limit ?? 50;
      const out: RunRecord[] = [];
      let before = query.before;
      while (out.length < wanted) {
        const page = await client.runs({
          ...(query.status ? { status: query.status } : {}),
          ...(query.definition ? { definition: query.definition } : {}),
          ...(before ? { before } : {}),
          limit: Math.min(PAGE.runs, wanted - out.length),
          ...tagged,
        });
        out.push(...page.runs.map(runRecord));
        if (page.next === null) break;
        before = page.next;
      }
      return out;
    },
    async listSteps(runId) {
      const { steps } = await client.run(runId, tagged);
      return Promise.all(steps.map((s) => stepRecord(client, s)));
    },
    async listAttempts(runId) {
      return (await client.attempts(runId)).attempts;
    },
    async listLogs(runId, options = {}) {
      const out: LogRecord[] = [];
      let after = options.afterSeq;
      const wanted = options.limit ?? Number.POSITIVE_INFINITY;
      for (;;) {
        const limit = Math.min(PAGE.logs, wanted - out.length);
        const { logs, next } = await client.logs(runId, {
          ...(options.stepKey !== undefined ? { step: options.stepKey } : {}),
          ...(after !== undefined ? { after } : {}),
          limit,
        });
        out.push(...logs);
        if (logs.length < limit || out.length >= wanted) return out;
        after = next;
      }
    },
    async listChildRuns(runId) {
      return (await client.run(runId, tagged)).children.map(runRecord);
    },
    async close() {},
  };
}
