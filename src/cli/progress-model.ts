/**
 * What the progress view knows about each node of one run, folded from engine events and from
 * the store's step records. Only top-level nodes have a row; fan-out items are counted on their
 * map node.
 */
import type { SerializedError } from '../core/errors.js';
import type { EngineEvent } from '../engine/events.js';
import type { PipelineSpec } from '../sdk/pipeline.js';
import type { StepRecord } from '../store/contract/types.js';
import type { ViewStatus } from './format.js';

export interface NodeView {
  name: string;
  kind: 'node' | 'map';
  status: ViewStatus;
  attempt: number;
  maxAttempts: number;
  /** Start of the current attempt, and of the first. */
  attemptStartedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Map nodes: item count once expanded, and how many are done / failed. */
  items: number | null;
  itemsDone: number;
  itemsFailed: number;
  error: string | null;
  retryAt: number | null;
}

type StepEvent = Extract<EngineEvent, { type: 'step' }>;

/** What changed with an event, for a view that prints lines. */
export type Change =
  | { kind: 'running'; node: NodeView; at: number }
  | { kind: 'expanded'; node: NodeView; at: number }
  | { kind: 'finished'; node: NodeView; at: number }
  | {
      kind: 'retry';
      node: NodeView;
      step: string;
      attempt: number;
      error: SerializedError | undefined;
      retryAt: number;
      at: number;
    }
  | {
      kind: 'item-failed';
      node: NodeView;
      step: string;
      attempt: number;
      error: SerializedError | undefined;
      at: number;
    }
  | null;

export class ProgressModel {
  readonly runId: string;
  readonly nodes = new Map<string, NodeView>();

  constructor(runId: string, spec: PipelineSpec, steps: readonly StepRecord[]) {
    this.runId = runId;
    const top = steps.filter((s) => s.parentKey === null);
    const rank = new Map(spec.order.map((n, i) => [n, i]));
    top.sort((a, b) => (rank.get(a.node) ?? Infinity) - (rank.get(b.node) ?? Infinity));
    for (const s of top) {
      const node = spec.nodes.get(s.node);
      this.nodes.set(s.key, {
        name: s.key,
        kind: node?.kind ?? 'node',
        status: s.status,
        attempt: s.attempt,
        maxAttempts: node?.policy.maxAttempts ?? 1,
        attemptStartedAt: s.startedAt,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        items: null,
        itemsDone: 0,
        itemsFailed: 0,
        error: s.error?.message ?? null,
        retryAt: null,
      });
    }
    this.refresh(steps);
  }

  /** Brings every row in line with the store (skips and cancels come without events). */
  refresh(steps: readonly StepRecord[]): void {
    const items = new Map<string, StepRecord[]>();
    for (const s of steps) {
      if (s.parentKey !== null) {
        const list = items.get(s.parentKey) ?? [];
        list.push(s);
        items.set(s.parentKey, list);
        continue;
      }
      const view = this.nodes.get(s.key);
      if (!view) continue;
      view.attempt = Math.max(view.attempt, s.attempt);
      // The store keeps the start of the latest attempt; the view shows time since the first.
      view.startedAt ??= s.startedAt;
      view.finishedAt = s.finishedAt ?? view.finishedAt;
      // The store is the truth; a queued step that already ran is waiting for its retry.
      view.status = s.status === 'queued' && s.attempt > 0 ? 'retrying' : s.status;
      if (view.status === 'retrying') view.retryAt = s.availableAt;
      if (s.error && !view.error) view.error = s.error.message;
    }
    for (const [key, list] of items) {
      const view = this.nodes.get(key);
      if (!view) continue;
      view.items = Math.max(view.items ?? 0, list.length);
      view.itemsDone = list.filter((s) => s.status === 'succeeded' || s.status === 'cached').length;
      view.itemsFailed = list.filter((s) => s.status === 'failed').length;
      const failed = list.find((s) => s.status === 'failed');
      if (failed && !view.error) view.error = `${failed.key}: ${failed.error?.message ?? 'failed'}`;
    }
  }

  /** Applies an engine event of this run; returns what changed. */
  apply(event: StepEvent): Change {
    if (event.runId !== this.runId) return null;
    const view = this.nodes.get(event.node);
    if (!view) return null;
    return event.step === view.name ? this.#applyNode(view, event) : this.#applyItem(view, event);
  }

  #applyNode(view: NodeView, e: StepEvent): Change {
    switch (e.status) {
      case 'running':
        if (e.items !== undefined) {
          view.items = e.items;
          return { kind: 'expanded', node: view, at: e.at };
        }
        view.status = 'running';
        view.attempt = e.attempt;
        view.attemptStartedAt = e.at;
        view.startedAt ??= e.at;
        view.retryAt = null;
        return { kind: 'running', node: view, at: e.at };
      case 'queued':
        if (e.retryAt === undefined) return null;
        view.status = 'retrying';
        view.retryAt = e.retryAt;
        view.error = e.error?.message ?? null;
        return {
          kind: 'retry',
          node: view,
          step: e.step,
          attempt: e.attempt,
          error: e.error,
          retryAt: e.retryAt,
          at: e.at,
        };
      default:
        view.status = e.status;
        view.finishedAt = e.at;
        if (e.items !== undefined) view.items = e.items;
        if (e.error) view.error = e.error.message;
        if (e.status === 'succeeded') view.error = null;
        return { kind: 'finished', node: view, at: e.at };
    }
  }

  #applyItem(view: NodeView, e: StepEvent): Change {
    switch (e.status) {
      case 'queued':
        if (e.retryAt === undefined) return null;
        return {
          kind: 'retry',
          node: view,
          step: e.step,
          attempt: e.attempt,
          error: e.error,
          retryAt: e.retryAt,
          at: e.at,
        };
      case 'succeeded':
      case 'cached':
        view.itemsDone++;
        if (view.items !== null && view.itemsDone >= view.items && view.status === 'running') {
          // The store succeeds the map step with its last item; no event says so.
          view.status = 'succeeded';
          view.finishedAt = e.at;
          return { kind: 'finished', node: view, at: e.at };
        }
        return null;
      case 'failed': {
        view.itemsFailed++;
        view.error = `${e.step}: ${e.error?.message ?? 'failed'}`;
        const change: Change = {
          kind: 'item-failed',
          node: view,
          step: e.step,
          attempt: e.attempt,
          error: e.error,
          at: e.at,
        };
        if (view.status === 'running') {
          view.status = 'failed';
          view.finishedAt = e.at;
        }
        return change;
      }
      default:
        return null;
    }
  }
}
