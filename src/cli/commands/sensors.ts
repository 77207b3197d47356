/**
 * `weft sensors`: the sensors the workers registered, with their last evaluation; `weft sensors
 * pause <name>` and `resume <name>` — on a database (`--db`) or through a server (`--server`).
 *
 * ```sh
 * weft sensors
 * weft sensors pause new_files --server http://weft.internal:8080
 * ```
 */
import type { SensorView } from '../../client/index.js';
import { colorsFor, dateTime, table, toJson, truncate } from '../format.js';
import { UsageError } from '../usage-error.js';
import { withSource, type SourceFlags } from './partitions.js';

/** `30s`, `5m`, `1h`, or milliseconds when none fits. */
function interval(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export async function sensorsListCommand(flags: SourceFlags): Promise<number> {
  const sensors = await withSource(
    flags,
    async (client) => (await client.sensors()).sensors,
    ({ store }) => store.listSensors(),
  );
  if (flags.json) {
    process.stdout.write(`${toJson(sensors, 2)}\n`);
    return 0;
  }
  if (sensors.length === 0) {
    process.stdout.write(
      'no sensors yet: declare one with sensor(target, { evaluate }) in a file a worker loads\n',
    );
    return 0;
  }
  const c = colorsFor(process.stdout);
  const rows = sensors.map((s) => [
    s.name,
    s.target,
    interval(s.intervalMs),
    s.paused ? c.yellow('paused') : 'active',
    s.evaluatedAt === null ? '–' : dateTime(s.evaluatedAt),
    s.evaluatedAt === null
      ? '–'
      : s.lastError !== null
        ? c.red(`failed: ${truncate(s.lastError, 60)}`)
        : `${s.lastRequested} run${s.lastRequested === 1 ? '' : 's'} requested`,
  ]);
  process.stdout.write(
    `${table(['NAME', 'TARGET', 'EVERY', 'STATE', 'LAST EVALUATED', 'LAST OUTCOME'], rows, c)}\n`,
  );
  return 0;
}

export async function sensorsPauseCommand(
  name: string,
  paused: boolean,
  flags: SourceFlags,
): Promise<number> {
  const sensor = await withSource<SensorView>(
    flags,
    (client) => (paused ? client.pauseSensor(name) : client.resumeSensor(name)),
    async ({ store, where }) => {
      const updated = await store.setSensorPaused(name, paused, Date.now());
      if (!updated) {
        const known = (await store.listSensors()).map((s) => s.name);
        throw new UsageError(
          `no sensor named ${JSON.stringify(name)} in ${where}${known.length ? `; sensors: ${known.join(', ')}` : ''}`,
        );
      }
      return updated;
    },
  );
  if (flags.json) process.stdout.write(`${toJson(sensor, 2)}\n`);
  else {
    process.stdout.write(
      `${sensor.name} ${paused ? 'paused: it is not evaluated until resumed' : 'resumed'}\n`,
    );
  }
  return 0;
}
