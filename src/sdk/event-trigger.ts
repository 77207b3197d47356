/**
 * Runs started by events: when an event of a type is sent (`POST /api/events`,
 * `weft event send`, `engine.sendEvent`), a run of the target starts with the event's payload
 * as its params (or workflow input), or with fixed params.
 *
 * ```ts
 * export const onSignup = onEvent(welcome, { event: 'user.signed-up' });
 * ```
 *
 * Declared next to the target and registered by the workers that load the file; the elected
 * scheduler starts the runs, one per event and trigger whatever retries or crashes (the run's
 * idempotency key is `event:<event id>:<trigger>`). Waiting workflows still receive the event.
 */
import { ConfigError } from '../core/errors.js';
import { brand, hasBrand } from './brand.js';
import type { AnyPipeline } from './pipeline.js';
import type { AnyWorkflow } from './workflow.js';

const EVENT_TRIGGER = Symbol.for('weft.event-trigger');

export interface EventTriggerOptions {
  /** The event type that starts a run. */
  event: string;
  /** Names the trigger (unique per target). Default the event type. */
  name?: string;
  /** Fixed params (plain JSON) instead of the event's payload. */
  params?: unknown;
}

export interface EventTrigger {
  readonly kind: 'event-trigger';
  readonly name: string;
  readonly event: string;
  readonly target: AnyPipeline | AnyWorkflow;
  /** Fixed params, or null: the event's payload. */
  readonly params: unknown;
}

export function isEventTrigger(value: unknown): value is EventTrigger {
  return hasBrand(value, EVENT_TRIGGER);
}

/** Starts a run of `target` for each event of a type; export it from the file workers load. */
export function onEvent(
  target: AnyPipeline | AnyWorkflow,
  options: EventTriggerOptions,
): EventTrigger {
  const event = options.event;
  if (typeof event !== 'string' || event.trim() === '') {
    throw new ConfigError(
      'invalid_trigger',
      `event trigger of ${target.name}: give the event type that starts a run (onEvent(target, { event: 'order.created' }))`,
    );
  }
  const name = options.name ?? event;
  let params: unknown = null;
  if (options.params !== undefined) {
    const text = JSON.stringify(options.params);
    if (text === undefined) {
      throw new ConfigError(
        'invalid_trigger',
        `event trigger ${name} of ${target.name}: params must be plain JSON`,
      );
    }
    params = JSON.parse(text) as unknown;
  }
  return brand({ kind: 'event-trigger' as const, name, event, target, params }, EVENT_TRIGGER);
}
