/**
 * Group commit of step results. Results that arrive in the same turn of the event loop (fan-out
 * items, parallel branches) are recorded in ONE transaction; a lone result (a chain) is
 * recorded at once, with no added latency. The last completion of a batch claims the work the
 * batch made ready, up to the slots the batch frees.
 *
 * At most {@link MAX_IN_FLIGHT} batches are being committed at once: results that arrive
 * meanwhile wait for one to finish and go together in the next, so the slower the store, the
 * larger its batches (a network round trip costs what a row costs many times over).
 */
import type { Store } from '../store/contract/store.js';
import type { CompleteStep, TransitionResult } from '../store/contract/types.js';

const MAX_IN_FLIGHT = 2;

interface Pending {
  input: CompleteStep;
  resolve: (result: TransitionResult) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  readonly #store: Store;
  readonly #running: () => number;
  readonly #claimBudget: (batchSize: number) => { limit: number; leaseMs: number } | null;
  #queue: Pending[] = [];
  #scheduled = false;
  #inFlight = 0;

  /**
   * @param running how many steps this worker runs now (1 or less: the result is alone)
   * @param claimBudget given how many held steps a batch finishes, what it may claim of the
   *   work it makes ready (or null)
   */
  constructor(
    store: Store,
    running: () => number,
    claimBudget: (batchSize: number) => { limit: number; leaseMs: number } | null,
  ) {
    this.#store = store;
    this.#running = running;
    this.#claimBudget = claimBudget;
  }

  submit(input: Omit<CompleteStep, 'claimNext'>): Promise<TransitionResult> {
    return this.submitAll([input]).then((results) => results[0]!);
  }

  /** Records several results, in order, in the same transaction. */
  submitAll(inputs: readonly Omit<CompleteStep, 'claimNext'>[]): Promise<TransitionResult[]> {
    const wasEmpty = this.#queue.length === 0;
    const results = Promise.all(
      inputs.map(
        (input) =>
          new Promise<TransitionResult>((resolve, reject) =>
            this.#queue.push({ input, resolve, reject }),
          ),
      ),
    );
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      // A commit that finishes flushes what queued meanwhile.
    } else if (wasEmpty && this.#running() <= 1) {
      void this.#flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.#flush();
      });
    }
    return results;
  }

  async #flush(): Promise<void> {
    if (this.#inFlight >= MAX_IN_FLIGHT) return;
    const batch = this.#queue.splice(0);
    if (batch.length === 0) return;
    this.#inFlight++;
    const inputs = batch.map((b) => b.input);
    // Only steps this worker held free a slot; steps run ahead never took one.
    const claimNext = this.#claimBudget(inputs.filter((i) => !i.claim).length);
    if (claimNext) inputs[inputs.length - 1] = { ...inputs[inputs.length - 1]!, claimNext };
    try {
      const results =
        inputs.length === 1
          ? [await this.#store.completeStep(inputs[0]!)]
          : await this.#store.completeSteps(inputs);
      results.forEach((r, i) => batch[i]!.resolve(r));
    } catch (error) {
      for (const b of batch) b.reject(error);
    } finally {
      this.#inFlight--;
      if (this.#queue.length > 0 && !this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          void this.#flush();
        });
      }
    }
  }
}
