/**
 * Retries and timeouts against flaky work, with explicit references: every dependency is a
 * typed reference, so a rename is a refactor.
 *
 * - `quote` fails its first `failures` attempts (a 503 from a pretend service), then succeeds;
 *   it retries with exponential backoff from 50 ms.
 * - `lookup` hangs on its first attempt until its 100 ms timeout aborts its signal, which it
 *   honours; the retry answers at once.
 * - `prices` fans out per SKU; a seeded random number decides how many times each item fails
 *   (0 to 2), and each item retries on its own.
 *
 * Everything is deterministic: the failures come from the attempt number and the seed, never
 * from the clock. With the default params a real run takes a few hundred milliseconds.
 *
 * ```sh
 * npx weft run examples/flaky/pipeline.ts --param failures=2
 * ```
 */
import { NonRetryableError, pipeline } from 'weft';
import { z } from 'zod';

export const params = z.object({
  /** Attempts of `quote` that fail before one succeeds (it has 3 retries). */
  failures: z.number().int().min(0).default(2),
  /** How many SKUs to price. */
  items: z.number().int().min(0).max(1000).default(5),
  /** Seeds which price lookups fail, and how often. */
  seed: z.number().int().default(42),
});

/** The most times a price lookup fails before it succeeds; `prices` retries that often. */
export const MAX_ITEM_FAILURES = 2;

/** A small deterministic generator (mulberry32): the same seed gives the same numbers. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many times the price lookup of item `index` fails under `seed` (0…MAX_ITEM_FAILURES). */
export function itemFailures(seed: number, index: number): number {
  return Math.floor(random(seed * 7919 + index)() * (MAX_ITEM_FAILURES + 1));
}

/** Resolves never; rejects with the signal's reason once it aborts. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export interface Quote {
  price: number;
  /** The attempt that succeeded. */
  attempt: number;
}

export interface ItemPrice {
  sku: string;
  price: number;
  attempt: number;
}

export const flaky = pipeline(
  'flaky',
  {
    params,
    description: 'Retries with backoff, a per-attempt timeout, and per-item retries of a fan-out',
  },
  (p) => {
    const quote = p.node(
      'quote',
      { failures: p.params.failures },
      ({ failures }, { attempt, log }): Quote => {
        if (attempt <= failures) {
          log.warn(`quote service answered 503 on attempt ${attempt}`);
          throw new Error(`quote service unavailable (503), attempt ${attempt}`);
        }
        return { price: 101.25, attempt };
      },
      { retries: { retries: 3, initialDelay: '50ms', factor: 2, jitter: 0 } },
    );

    const lookup = p.node(
      'lookup',
      {},
      async (_deps, { attempt, signal, log }) => {
        if (attempt === 1) {
          log.warn('the first lookup hangs; its timeout will abort it');
          await untilAborted(signal);
        }
        return { region: 'eu-west', attempt };
      },
      { timeout: '100ms', retries: { retries: 1, initialDelay: '50ms', jitter: 0 } },
    );

    const skus = p.node('skus', { count: p.params.items }, ({ count }) =>
      Array.from({ length: count }, (_, i) => `sku-${String(i).padStart(3, '0')}`),
    );

    const prices = p.map(
      'prices',
      skus,
      { seed: p.params.seed, quote },
      (sku, { seed, quote }, { attempt }): ItemPrice => {
        const index = Number(sku.slice(4));
        if (attempt <= itemFailures(seed, index)) {
          throw new Error(`price of ${sku} timed out upstream, attempt ${attempt}`);
        }
        return { sku, price: Math.round(quote.price * (1 + index / 100) * 100) / 100, attempt };
      },
      {
        retries: { retries: MAX_ITEM_FAILURES, initialDelay: '50ms', factor: 2, jitter: 0 },
        concurrency: 3,
      },
    );

    const total = p.node('total', { quote, lookup, prices }, ({ quote, lookup, prices }) => {
      if (prices.some((x) => !Number.isFinite(x.price))) {
        throw new NonRetryableError('a price is not a number');
      }
      return {
        region: lookup.region,
        items: prices.length,
        total: Math.round(prices.reduce((s, x) => s + x.price, 0) * 100) / 100,
        attempts: {
          quote: quote.attempt,
          lookup: lookup.attempt,
          prices: prices.reduce((s, x) => s + x.attempt, 0),
        },
      };
    });

    return { total, prices };
  },
);
