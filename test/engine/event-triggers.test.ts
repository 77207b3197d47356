/**
 * Event triggers on real stores: a run per event and trigger (payload as input, or fixed
 * params), none for events from before the first pass, one for a webhook delivered twice, and
 * one for an event that commits a moment after a later one was read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encode } from '../../src/core/codec.js';
import { Engine } from '../../src/engine/index.js';
import { eventTriggers } from '../../src/engine/event-triggers.js';
import { onEvent, pipeline, workflow } from '../../src/index.js';
import type { Store } from '../../src/store/contract/index.js';
import { tempStore, type Backend } from '../server/helpers.js';

const welcome = workflow(
  'welcome',
  { input: z.object({ user: z.string() }) },
  async (ctx, { user }) => ctx.step('greet', () => `hi ${user}`),
);
const audit = pipeline(
  'audit',
  { entry: ({ kind }: { kind: string }) => kind },
  { params: z.object({ kind: z.string() }) },
);
const onSignup = onEvent(welcome, { event: 'user.signed-up' });
const auditSignup = onEvent(audit, {
  event: 'user.signed-up',
  name: 'audit-signups',
  params: { kind: 'signup' },
});

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  describe(`event triggers (${backend})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let client: Engine;
    let registeredAt: number;
    let now: number;

    beforeEach(async () => {
      ({ store, cleanup } = await tempStore(backend));
      const worker = new Engine({
        store,
        definitions: [],
        triggers: [onSignup, auditSignup],
        captureConsole: false,
      });
      await worker.start();
      await worker.stop();
      registeredAt = (await store.listDefinitions())[0]!.registeredAt;
      now = registeredAt + 60_000;
      client = new Engine({ store, definitions: [], worker: false, captureConsole: false });
      await client.start();
    });

    afterEach(async () => {
      await client.stop();
      await cleanup();
    });

    const duty = () => eventTriggers({ engine: client });
    const pass = (d = duty()) =>
      d.run({ store, now: (now += 1000), signal: new AbortController().signal });
    const send = (id: string, payload: unknown, sentAt = now, idempotencyKey?: string) =>
      store.sendEvent({
        id,
        type: 'user.signed-up',
        payload: encode(payload, 'payload'),
        sentAt,
        ...(idempotencyKey ? { idempotencyKey } : {}),
      });
    const runs = async () =>
      [
        ...(await store.listRuns({ definition: 'welcome' })),
        ...(await store.listRuns({ definition: 'audit' })),
      ].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));

    it('registers the triggers with their targets, and starts a run per event and trigger', async () => {
      const definitions = await store.listDefinitions();
      expect(definitions.map((d) => d.name).sort()).toEqual(['audit', 'welcome']);
      // Sent before the triggers were registered: it starts nothing.
      await send('evt_before', { user: 'early' }, registeredAt - 1000);
      const d = duty();
      await pass(d);
      expect(await runs()).toHaveLength(0);

      await send('evt_a', { user: 'ada' }, now + 1);
      await pass(d);
      await pass(d);
      const started = await runs();
      expect(started.map((r) => [r.definition, r.trigger, r.idempotencyKey])).toEqual(
        expect.arrayContaining([
          ['welcome', 'event:user.signed-up', 'event:evt_a:user.signed-up'],
          ['audit', 'event:user.signed-up', 'event:evt_a:audit-signups'],
        ]),
      );
      expect(started).toHaveLength(2);
      const byDefinition = Object.fromEntries(started.map((r) => [r.definition, r.input]));
      expect(JSON.parse(byDefinition.welcome!)).toEqual({ user: 'ada' });
      expect(JSON.parse(byDefinition.audit!)).toEqual({ kind: 'signup' });
    });

    it('starts one run for a webhook delivered twice, and for an event read twice', async () => {
      const d = duty();
      await pass(d);
      const first = await send('evt_1', { user: 'bo' }, now + 1, 'hook-77');
      const again = await send('evt_2', { user: 'bo' }, now + 2, 'hook-77');
      expect(first.created).toBe(true);
      expect(again.created).toBe(false);
      await pass(d);
      // A new leader (no memory of what was started) reads the window again.
      await pass(duty());
      expect((await runs()).filter((r) => r.definition === 'welcome')).toHaveLength(1);
    });

    it('starts the run of an event that committed after a later one was read', async () => {
      const d = duty();
      await pass(d);
      const start = now;
      await send('evt_late_2', { user: 'second' }, start + 400);
      await pass(d);
      // Stamped before the event already read, committed after it.
      await send('evt_late_1', { user: 'first' }, start + 200);
      await pass(d);
      const users = (await store.listRuns({ definition: 'welcome' })).map(
        (r) => (JSON.parse(r.input) as { user: string }).user,
      );
      expect(users.sort()).toEqual(['first', 'second']);
    });
  });
}
