/**
 * `weft event send <type>`: sends an event to the workflows of a database — from a shell, a
 * script or another process than the one running them. Runs waiting for it wake up in
 * whichever process holds them (a `weft run` that is waiting, a worker).
 *
 * ```sh
 * weft event send expense.decided --key exp-1 --data '{"approved":true}'
 * ```
 */
import { Engine } from '../../engine/engine.js';
import { colorsFor, dateTime, toJson } from '../format.js';
import { dbDisplay } from '../follow-run.js';
import { dbPath, openStore } from '../open-store.js';
import { parseJsonFlag } from '../params.js';
import { UsageError } from '../usage-error.js';

export interface EventSendFlags {
  data?: string;
  key?: string;
  idempotencyKey?: string;
  db?: string;
  json?: boolean;
}

export async function eventSendCommand(type: string, flags: EventSendFlags): Promise<number> {
  if (type.trim() === '') {
    throw new UsageError('the event type is empty; e.g. weft event send order.approved');
  }
  // Checked before the database is opened: a bad flag changes nothing.
  const payload = flags.data === undefined ? null : parseJsonFlag('--data', flags.data);
  for (const [flag, value] of [
    ['--key', flags.key],
    ['--idempotency-key', flags.idempotencyKey],
  ] as const) {
    if (value !== undefined && value === '')
      throw new UsageError(`${flag} is empty; drop it or give a value`);
  }
  const path = dbPath(flags.db);
  const store = await openStore(path, { mustExist: true });
  // A client engine: it records the event and wakes the runs; it runs nothing itself.
  const engine = new Engine({ store, definitions: [], worker: false, captureConsole: false });
  try {
    await engine.start();
    const { event, created, woken } = await engine.sendEvent(type, payload, {
      ...(flags.key !== undefined ? { key: flags.key } : {}),
      ...(flags.idempotencyKey !== undefined ? { idempotencyKey: flags.idempotencyKey } : {}),
    });
    if (flags.json) {
      process.stdout.write(`${toJson({ event: event.id, created, woken }, 2)}\n`);
      return 0;
    }
    const c = colorsFor(process.stdout);
    const key = event.key === null ? '' : ` key=${event.key}`;
    if (!created) {
      process.stdout.write(
        `event ${c.bold(event.id)} was already sent with idempotency key ${flags.idempotencyKey} ` +
          `at ${dateTime(event.sentAt)} (${JSON.stringify(event.type)}${key}); nothing sent again\n`,
      );
      return 0;
    }
    process.stdout.write(
      `sent event ${c.bold(event.id)} ${JSON.stringify(event.type)}${key} to ${dbDisplay(path)}\n`,
    );
    if (woken.length) {
      process.stdout.write(
        `woke ${woken.length} run${woken.length === 1 ? '' : 's'}: ${woken.join(', ')}\n`,
      );
    } else {
      const later =
        event.key === null
          ? 'an event without a key reaches only waits that had begun when it was sent'
          : `a wait for key ${event.key} that begins later still receives it`;
      process.stdout.write(c.dim(`woke no run: none was parked waiting for it (${later})\n`));
    }
    return 0;
  } finally {
    await engine.stop();
    await store.close();
  }
}
