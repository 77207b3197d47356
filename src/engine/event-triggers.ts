/**
 * Event triggers (`onEvent(target, { event })`): a maintenance duty, run beside the scheduler
 * by the elected `weft server` (or `weft dev`), that starts a run of each trigger's target for
 * every event of its type.
 *
 * Each pass reads the events sent since its cursor (kept in the store, so a new leader goes
 * on where the last one stopped), starts the runs, and moves the cursor up to a few seconds
 * behind the last event's send time. A run's idempotency key is `event:<event id>:<trigger>`: an event seen twice (a
 * pass that died before moving the cursor, the window below) starts one run. Events are read
 * again for a few seconds behind the last one: an event stamped a moment earlier by another
 * process can commit after a later one was read, and would otherwise be passed over.
 */
import { decode } from '../core/codec.js';
import type {
  DefinitionRecord,
  RegisteredEventTrigger,
  RunRecord,
} from '../store/contract/types.js';
import type { Engine } from './engine.js';
import type { MaintenanceDuty } from './maintenance.js';

/**
 * The store cursor of this duty: the send time from which the next pass reads (a few seconds
 * behind the last event handled).
 */
export const EVENT_TRIGGER_CURSOR = 'event-triggers';

export interface EventTriggerOptions {
  /** Submits the runs (with the target's code when it has it, else from its registration). */
  engine: Engine;
  /** How far behind the last event handled each pass reads again. Default 5 s. */
  lookbackMs?: number;
  /** Most events read per pass. Default 500. */
  pageSize?: number;
  onRun?: (event: { trigger: string; eventId: string; run: RunRecord; created: boolean }) => void;
  /** Where a run that could not start is reported. Default `process.emitWarning`. */
  warn?: (message: string, error: unknown) => void;
}

/** The idempotency key of the run an event starts through a trigger. */
export function eventRunKey(eventId: string, trigger: string): string {
  return `event:${eventId}:${trigger}`;
}

function defaultWarn(message: string, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  process.emitWarning(`${message}: ${detail}`, { type: 'WeftWarning', code: 'WEFT_TRIGGER' });
}

function triggersOf(definition: DefinitionRecord): RegisteredEventTrigger[] {
  const list = (definition.graph as { eventTriggers?: RegisteredEventTrigger[] } | null)
    ?.eventTriggers;
  return Array.isArray(list) ? list : [];
}

export function eventTriggers(options: EventTriggerOptions): MaintenanceDuty {
  const lookbackMs = options.lookbackMs ?? 5000;
  const pageSize = options.pageSize ?? 500;
  const warn = options.warn ?? defaultWarn;
  /** Runs this process started lately (event and trigger): the window is read again. */
  const started = new Map<string, number>();
  return {
    name: 'start runs of event triggers',
    async run({ store, now, signal }) {
      const byType = new Map<
        string,
        { definition: DefinitionRecord; trigger: RegisteredEventTrigger }[]
      >();
      for (const definition of await store.listDefinitions()) {
        for (const trigger of triggersOf(definition)) {
          const list = byType.get(trigger.event) ?? [];
          list.push({ definition, trigger });
          byType.set(trigger.event, list);
        }
      }
      if (byType.size === 0) return;
      // Before the first pass, events count from when their triggers were registered: events
      // sent before any trigger existed start nothing.
      const cursor =
        (await store.getCursor(EVENT_TRIGGER_CURSOR)) ??
        Math.min(...[...byType.values()].flat().map(({ definition }) => definition.registeredAt));
      const events = await store.listEventsSince(cursor, pageSize);
      for (const event of events) {
        if (signal.aborted) return;
        for (const { definition, trigger } of byType.get(event.type) ?? []) {
          const key = eventRunKey(event.id, trigger.name);
          if (started.has(`${definition.name}\0${key}`)) continue;
          try {
            const { run, created } = await options.engine.submitByName(definition.name, {
              params: trigger.params ?? decode(event.payload),
              trigger: `event:${event.type}`,
              idempotencyKey: key,
            });
            started.set(`${definition.name}\0${key}`, event.sentAt);
            options.onRun?.({ trigger: trigger.name, eventId: event.id, run, created });
          } catch (error) {
            // The cursor still moves: a run whose params are refused would be refused again.
            warn(`event ${event.id} could not start ${definition.name} (${trigger.name})`, error);
          }
        }
      }
      // A full page moves on to its last event whatever the window (so a burst can't stall).
      const last = events.at(-1)?.sentAt ?? cursor;
      const next = events.length === pageSize ? last : Math.max(cursor, last - lookbackMs);
      if (next > cursor) await store.setCursor(EVENT_TRIGGER_CURSOR, next, now);
      for (const [key, sentAt] of started) {
        if (sentAt < next) started.delete(key);
      }
    },
  };
}
