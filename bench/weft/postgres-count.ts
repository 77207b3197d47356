/**
 * Counts the SQL round trips of this process: wraps `pg.Client.prototype.query` (every pooled
 * connection is a `pg.Client`) to count statements and transactions, and time them. The
 * benchmarks use it to say how many round trips a task costs; it never changes a query.
 */
import { createRequire } from 'node:module';
import type PgModule from 'pg';

// The `pg` the store uses, the repository root's: once `npm run bench:peers` has installed
// `bench/` (which has a `pg` of its own for the peers), a plain import here would resolve to
// that copy and count nothing.
const pg = createRequire(new URL('../../package.json', import.meta.url))('pg') as typeof PgModule;

export interface QueryCounts {
  /** Statements sent, BEGIN and COMMIT included. */
  queries: number;
  /** Transactions (BEGIN statements). */
  transactions: number;
  /** Total time from sending a statement to its answer, ms (overlapping ones add up). */
  ms: number;
  /** Statements by their first words, most frequent first. */
  byStatement: Record<string, { n: number; ms: number }>;
}

let counting = false;
let counts: QueryCounts = fresh();

function fresh(): QueryCounts {
  return { queries: 0, transactions: 0, ms: 0, byStatement: {} };
}

function label(config: unknown): string {
  const text =
    typeof config === 'string'
      ? config
      : ((config as { text?: string; name?: string } | null)?.text ?? '?');
  return text.replace(/\s+/g, ' ').trim().slice(0, 70);
}

let installed = false;
/** Starts counting (installs the wrapper the first time). */
export function startCounting(): void {
  if (!installed) {
    installed = true;
    const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
    (pg.Client.prototype as { query: unknown }).query = function (
      this: pg.Client,
      ...args: unknown[]
    ) {
      if (!counting) return original.apply(this, args);
      const what = label(args[0]);
      const started = performance.now();
      counts.queries++;
      if (what === 'BEGIN') counts.transactions++;
      const done = () => {
        const ms = performance.now() - started;
        counts.ms += ms;
        const entry = (counts.byStatement[what] ??= { n: 0, ms: 0 });
        entry.n++;
        entry.ms += ms;
      };
      // `pool.query` calls `client.query` with a callback; the store's transactions await it.
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (...results: unknown[]) => {
          done();
          return (callback as (...a: unknown[]) => unknown)(...results);
        };
        return original.apply(this, args);
      }
      const result = original.apply(this, args);
      if (!(result instanceof Promise)) return result;
      return result.then(
        (value: unknown) => {
          done();
          return value;
        },
        (error: unknown) => {
          done();
          throw error;
        },
      );
    };
  }
  counts = fresh();
  counting = true;
}

/** Stops counting and returns what was counted since {@link startCounting}. */
export function stopCounting(): QueryCounts {
  counting = false;
  const sorted = Object.entries(counts.byStatement).sort((a, b) => b[1].n - a[1].n);
  return { ...counts, byStatement: Object.fromEntries(sorted) };
}
