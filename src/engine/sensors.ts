/**
 * Sensors (`sensor(target, { every, evaluate })`): a maintenance duty that evaluates the
 * sensors whose code this process has, each at its interval, and starts the runs they ask for.
 *
 * Sensors are user code, so they are evaluated where the code is: in `weft dev`, and in a
 * cluster by one `weft worker` at a time, elected through the store's `weft:sensors`
 * leadership ({@link sensorMaintenance}); when it stops or dies another worker with the code
 * takes over within about a second.
 *
 * A pass reads the sensors' records; one that is not paused and whose last evaluation is at
 * least its interval old is evaluated with the cursor read, under an abort signal that fires at
 * its timeout (default the interval, at most 60 s: a later answer would overlap the next
 * evaluation). Its requests are submitted with the idempotency key `sensor:<name>:<key>`, then
 * the new cursor is recorded with a compare-and-set on the cursor read: an evaluator that lost
 * the race (a second one during a failover) records nothing. A request made again — the
 * evaluator died between submitting and recording, and the next evaluation from the old cursor
 * asks again — returns the run that exists: a request never starts two runs.
 *
 * An evaluation that throws, times out, returns something else than a result, or whose run
 * cannot be submitted records the error with the cursor unchanged; the next evaluation, an
 * interval later, starts again from that cursor. Other sensors go on.
 */
import type { Clock } from '../core/clock.js';
import { makeLogger } from '../sdk/context.js';
import type { LogLevel } from '../core/log.js';
import { checkSensorResult, type Sensor } from '../sdk/sensor.js';
import type { Store } from '../store/contract/store.js';
import type { RunRecord, SensorRecord } from '../store/contract/types.js';
import type { Engine } from './engine.js';
import { Maintenance, type MaintenanceDuty } from './maintenance.js';

/** The leadership the processes that evaluate sensors compete for. */
export const SENSORS_LEADERSHIP = 'weft:sensors';

export interface SensorsOptions {
  /** Submits the runs; it has the sensors' code. */
  engine: Engine;
  /**
   * The sensors to evaluate. Default the engine's, as they are at each pass (`weft dev`
   * reloads them). Sensors the store does not know (not registered) are left alone.
   */
  sensors?: Iterable<Sensor>;
  /** Told of each evaluation. */
  onEvaluation?: (event: SensorEvaluationEvent) => void;
  /** Where a failed evaluation is reported. Default `process.emitWarning`. */
  warn?: (message: string, error: unknown) => void;
  /** Where the sensors' `log` lines go. Default the console, prefixed with the sensor. */
  log?: (sensor: string, level: LogLevel, message: string, data?: unknown) => void;
  /** Times the evaluations' timeouts. Default the engine's clock. */
  clock?: Clock;
}

export interface SensorEvaluationEvent {
  sensor: string;
  at: number;
  /** The cursor the evaluation started from, and the one recorded (the same on failure). */
  from: string | null;
  cursor: string | null;
  /** The runs submitted (`created: false`: its key was used already). */
  runs: { key: string; run: RunRecord; created: boolean }[];
  /** Why it failed, or null. */
  error: string | null;
  /** False when another evaluator recorded first (its cursor had moved). */
  recorded: boolean;
}

/** The idempotency key of the run a sensor's request starts. */
export function sensorRunKey(sensor: string, key: string): string {
  return `sensor:${sensor}:${key}`;
}

/** What a sensor's runs have as `trigger`. */
export function sensorTrigger(sensor: string): string {
  return `sensor:${sensor}`;
}

function defaultWarn(message: string, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  process.emitWarning(`${message}: ${detail}`, { type: 'WeftWarning', code: 'WEFT_SENSOR' });
}

function defaultLog(sensor: string, level: LogLevel, message: string, data?: unknown): void {
  const line = `sensor ${sensor}: ${message}`;
  const args = data === undefined ? [line] : [line, data];
  if (level === 'error') console.error(...args);
  else if (level === 'warn') console.warn(...args);
  else console.log(...args);
}

/** The maintenance duty that evaluates sensors. */
export function evaluateSensors(options: SensorsOptions): MaintenanceDuty {
  const warn = options.warn ?? defaultWarn;
  const fixed = options.sensors ? [...options.sensors] : null;
  /** The last failure reported per sensor: one that keeps failing is reported once. */
  const reported = new Map<string, string>();
  const report = (sensor: string, text: string, error: unknown): void => {
    const key = `${text}: ${message(error)}`;
    if (reported.get(sensor) === key) return;
    reported.set(sensor, key);
    warn(text, error);
  };
  return {
    name: 'evaluate sensors',
    async run({ store, now, signal }) {
      const mine = fixed ?? options.engine.sensors;
      if (mine.length === 0) return;
      const records = new Map((await store.listSensors()).map((r) => [r.name, r]));
      const due = mine.flatMap((sensor) => {
        const record = records.get(sensor.name);
        if (!record || record.paused) return [];
        if (record.evaluatedAt !== null && record.evaluatedAt > now - record.intervalMs) return [];
        return [{ sensor, record }];
      });
      // Side by side: a pass lasts as long as its slowest evaluation (at most its timeout),
      // not the sum of them.
      await Promise.all(
        due.map(async ({ sensor, record }) => {
          if (signal.aborted) return;
          let event: SensorEvaluationEvent | null;
          try {
            event = await evaluateOne(store, options, sensor, record, now, signal);
          } catch (error) {
            // The store refused the record (it is down): the evaluation is tried again.
            report(
              sensor.name,
              `sensor ${sensor.name}: its evaluation could not be recorded`,
              error,
            );
            return;
          }
          if (!event) return;
          if (event.error === null) reported.delete(sensor.name);
          else if (event.recorded) {
            report(
              sensor.name,
              `sensor ${sensor.name} failed (its cursor stays; evaluated again in ${seconds(record.intervalMs)})`,
              new Error(event.error),
            );
          }
          options.onEvaluation?.(event);
        }),
      );
    },
  };
}

/** Evaluates one sensor and records the outcome; null when evaluation was given up (stopping). */
async function evaluateOne(
  store: Store,
  options: SensorsOptions,
  sensor: Sensor,
  record: SensorRecord,
  now: number,
  stop: AbortSignal,
): Promise<SensorEvaluationEvent | null> {
  const from = record.cursor;
  const runs: SensorEvaluationEvent['runs'] = [];
  let cursor = from;
  let error: string | null = null;
  try {
    const result = await withTimeout(options, sensor, stop, (signal) =>
      sensor.evaluate({
        cursor: from,
        now,
        signal,
        log: makeLogger((level, message, data) =>
          (options.log ?? defaultLog)(sensor.name, level, message, data),
        ),
      }),
    );
    if (stop.aborted) return null;
    const checked = checkSensorResult(sensor.name, result);
    for (const request of checked.runs) {
      try {
        const { run, created } = await options.engine.submitByName(sensor.target.name, {
          params: request.params,
          trigger: sensorTrigger(sensor.name),
          idempotencyKey: sensorRunKey(sensor.name, request.key),
          tags: request.tags,
        });
        runs.push({ key: request.key, run, created });
      } catch (e) {
        throw new Error(
          `the run of request ${JSON.stringify(request.key)} could not start: ${message(e)}`,
          { cause: e },
        );
      }
    }
    if (checked.cursor !== undefined) cursor = checked.cursor;
  } catch (e) {
    if (stop.aborted) return null;
    error = message(e);
    cursor = from;
  }
  const recorded = await store.recordSensorEvaluation({
    name: sensor.name,
    from,
    cursor,
    at: now,
    error,
    requested: error === null ? runs.length : 0,
  });
  return { sensor: sensor.name, at: now, from, cursor, runs, error, recorded };
}

/**
 * Calls `evaluate` under a signal that aborts at the sensor's timeout or when evaluation stops;
 * rejects at that moment even if the function goes on (it ignored its signal).
 */
async function withTimeout(
  options: SensorsOptions,
  sensor: Sensor,
  stop: AbortSignal,
  evaluate: (signal: AbortSignal) => unknown,
): Promise<unknown> {
  const clock = options.clock ?? options.engine.clock;
  const timer = new AbortController();
  const timedOut = new Error(
    `the evaluation took longer than its timeout of ${seconds(sensor.timeoutMs)}; pass the signal on to what it waits for, or give the sensor a longer timeout`,
  );
  const signal = AbortSignal.any([stop, timer.signal]);
  const expiry = clock.sleep(sensor.timeoutMs, signal).then(
    () => timer.abort(timedOut),
    () => undefined,
  );
  const aborted = new Promise<never>((_resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([Promise.resolve().then(() => evaluate(signal)), aborted]);
  } finally {
    // Ends the timer's sleep, and the `aborted` promise with it (its rejection handled here).
    aborted.catch(() => undefined);
    if (!timer.signal.aborted) timer.abort();
    await expiry;
  }
}

/**
 * The loop a worker whose code has sensors runs beside its engine: only the sensors duty,
 * under the `weft:sensors` leadership, so one process of the cluster evaluates them.
 */
export function sensorMaintenance(options: {
  store: Store;
  engine: Engine;
  clock?: Clock;
  holderId?: string;
  warn?: (message: string, error: unknown) => void;
}): Maintenance {
  return new Maintenance({
    store: options.store,
    leadership: SENSORS_LEADERSHIP,
    housekeeping: false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.holderId ? { holderId: options.holderId } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
    duties: [
      evaluateSensors({
        engine: options.engine,
        ...(options.warn ? { warn: options.warn } : {}),
      }),
    ],
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
