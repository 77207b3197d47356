/**
 * What the progress view of a workflow run knows about its journal, folded from engine events
 * and the store. Unlike a pipeline's nodes, journal entries are not known up front: they appear
 * as the workflow asks for them. An engine step event names an entry but not its kind, so the
 * first event of an entry (and the end of a sleep, event wait or child run) reads the entry
 * back from the store, where the runner recorded it before reporting it. The views feed events
 * through one queue, so lines keep the order the events came in.
 */
import type { EngineEvent } from '../engine/events.js';
import type { Store } from '../store/contract/store.js';
import { WORKFLOW_STEP_KEY, type StepRecord, type WaitInfo } from '../store/contract/types.js';
import type { ViewStatus } from './format.js';
import { entryOutput, isEntryKind, type EntryKind, type ReceivedEvent } from './journal-format.js';

export interface EntryView {
  key: string;
  kind: EntryKind;
  status: ViewStatus;
  attempt: number;
  /** Start of the current attempt, and of the first. */
  attemptStartedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  /** A sleep's wake time. */
  until: number | null;
  /** An event wait: the event type it waits for, and what it received (null: timed out). */
  event: { type: string; key: string | null; match: Record<string, unknown> | null } | null;
  received: ReceivedEvent | null | undefined;
  /** A child entry: the child run and its definition. */
  child: { runId: string; definition: string | null } | null;
}

type StepEvent = Extract<EngineEvent, { type: 'step' }>;
type LogEvent = Extract<EngineEvent, { type: 'log' }>;

/** What changed with an event, for a view that prints lines. */
export type JournalChange =
  | { kind: 'begun'; entry: EntryView; at: number }
  | { kind: 'finished'; entry: EntryView; at: number }
  | { kind: 'retry'; entry: EntryView; attempt: number; error: string; at: number }
  | { kind: 'parked'; wait: WaitInfo; child: string | null; at: number }
  | { kind: 'resumed'; after: number; at: number }
  | { kind: 'log'; event: LogEvent };

export class JournalModel {
  readonly runId: string;
  readonly entries = new Map<string, EntryView>();
  /** What the run waits for while parked, and since when. */
  parked: { wait: WaitInfo; child: string | null; since: number } | null = null;
  readonly #store: Store;

  constructor(runId: string, store: Store, steps: readonly StepRecord[]) {
    this.runId = runId;
    this.#store = store;
    const journal = steps
      .filter((s) => s.key !== WORKFLOW_STEP_KEY && isEntryKind(s.kind))
      .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    for (const s of journal) this.#fromRecord(s);
  }

  /** Notes that the run is parked now (a run resumed while it waits starts so). */
  async park(wait: WaitInfo, at: number): Promise<JournalChange> {
    const child = wait.kind === 'child' ? await this.#childDefinition(wait.childRunId) : null;
    this.parked = { wait, child, since: at };
    return { kind: 'parked', wait, child, at };
  }

  /** Applies an engine event of this run; returns what changed, in order. */
  async apply(event: EngineEvent): Promise<JournalChange[]> {
    if (event.runId !== this.runId) return [];
    if (event.type === 'log') return [{ kind: 'log', event }];
    if (event.type === 'run') {
      if (event.status === 'waiting' && event.waitingFor) {
        return [await this.park(event.waitingFor, event.at)];
      }
      return [];
    }
    if (event.step === WORKFLOW_STEP_KEY) return [];
    const changes: JournalChange[] = [];
    if (this.parked) {
      changes.push({ kind: 'resumed', after: event.at - this.parked.since, at: event.at });
      this.parked = null;
    }
    const change = await this.#applyStep(event);
    if (change) changes.push(change);
    return changes;
  }

  /** Brings every entry in line with the store's final records. */
  refresh(steps: readonly StepRecord[]): void {
    for (const s of steps) {
      if (s.key === WORKFLOW_STEP_KEY || !isEntryKind(s.kind)) continue;
      const view = this.#fromRecord(s);
      view.status = s.status;
      view.finishedAt = s.finishedAt ?? view.finishedAt;
      if (s.error && !view.error) view.error = s.error.message;
    }
    this.parked = null;
  }

  async #applyStep(e: StepEvent): Promise<JournalChange | null> {
    let view = this.entries.get(e.step);
    if (!view || (view.kind !== 'step' && e.status !== 'running')) {
      // The runner records sleeps, event waits and child runs before it reports them; a step
      // is reported running before its first record, so no record means a step.
      const record = await this.#store.getStep(this.runId, e.step);
      view = record ? this.#fromRecord(record) : this.#newEntry(e.step, 'step');
      if (view.kind === 'child' && view.child && view.child.definition === null) {
        view.child.definition = await this.#childDefinition(view.child.runId);
      }
    }
    switch (e.status) {
      case 'running':
        view.status = 'running';
        view.attempt = e.attempt;
        view.attemptStartedAt = e.at;
        view.startedAt ??= e.at;
        return { kind: 'begun', entry: view, at: e.at };
      case 'queued': {
        const error = e.error?.message ?? 'unknown error';
        view.status = 'retrying';
        view.error = error;
        return { kind: 'retry', entry: view, attempt: e.attempt, error, at: e.at };
      }
      default:
        view.status = e.status;
        view.attempt = Math.max(view.attempt, e.attempt);
        view.finishedAt = e.at;
        view.error = e.status === 'succeeded' ? null : (e.error?.message ?? view.error);
        return { kind: 'finished', entry: view, at: e.at };
    }
  }

  #newEntry(key: string, kind: EntryKind): EntryView {
    const view: EntryView = {
      key,
      kind,
      status: 'pending',
      attempt: 0,
      attemptStartedAt: null,
      startedAt: null,
      finishedAt: null,
      error: null,
      until: null,
      event: null,
      received: undefined,
      child: null,
    };
    this.entries.set(key, view);
    return view;
  }

  /** The entry of a record, created or updated with what its output says. */
  #fromRecord(s: StepRecord): EntryView {
    const kind = isEntryKind(s.kind) ? s.kind : 'step';
    const view = this.entries.get(s.key) ?? this.#newEntry(s.key, kind);
    view.kind = kind;
    if (view.status === 'pending') {
      view.status = s.status === 'queued' && s.attempt > 0 ? 'retrying' : s.status;
      view.attempt = s.attempt;
      view.startedAt = s.startedAt;
      view.attemptStartedAt = s.startedAt;
      view.finishedAt = s.finishedAt;
      view.error = s.error?.message ?? null;
    }
    const out = entryOutput(s);
    switch (out?.kind) {
      case 'sleep':
        view.until = out.until;
        break;
      case 'event-wait':
        view.event = { type: out.spec.event, key: out.spec.key, match: out.spec.match };
        break;
      case 'event':
        view.received = out.event;
        view.event ??= { type: out.event.type, key: out.event.key, match: null };
        break;
      case 'timed-out':
        view.received = null;
        break;
      case 'child':
        if (view.child?.runId !== out.childRunId) {
          view.child = { runId: out.childRunId, definition: null };
        }
        break;
      default:
        break;
    }
    return view;
  }

  async #childDefinition(runId: string): Promise<string | null> {
    for (const view of this.entries.values()) {
      if (view.child?.runId === runId && view.child.definition) return view.child.definition;
    }
    return (await this.#store.getRun(runId))?.definition ?? null;
  }
}
