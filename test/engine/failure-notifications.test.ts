/**
 * Failure notifications on real stores, delivered to a real HTTP server: the run's summary
 * goes to the definition's webhook and to the global ones, once; a webhook that keeps failing
 * is retried, then given up without holding back the others.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import {
  failureNotifications,
  type FailureNotification,
} from '../../src/engine/failure-notifications.js';
import { NonRetryableError, onFailure, pipeline } from '../../src/index.js';
import type { Store } from '../../src/store/contract/index.js';
import { tempStore, type Backend } from '../server/helpers.js';

const breaks = pipeline('breaks', {
  load: () => 1,
  check: ({ load }: { load: number }) => {
    throw new NonRetryableError(`bad value ${load}`);
  },
});
const works = pipeline('works', { one: () => 1 });

interface Received {
  path: string;
  key: string | undefined;
  body: FailureNotification;
}

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  describe(`failure notifications (${backend})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let worker: Engine;
    let receiver: Server;
    let base: string;
    const received: Received[] = [];
    let downCalls = 0;

    beforeEach(async () => {
      received.length = 0;
      downCalls = 0;
      receiver = createServer((req, res) => {
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => {
          if (req.url === '/down') {
            downCalls++;
            res.writeHead(503).end();
            return;
          }
          received.push({
            path: req.url ?? '',
            key: req.headers['idempotency-key'] as string | undefined,
            body: JSON.parse(text) as FailureNotification,
          });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      ({ store, cleanup } = await tempStore(backend));
      worker = new Engine({
        store,
        definitions: [works],
        failureHooks: [onFailure(breaks, { webhook: `${base}/breaks` })],
        pollMs: 20,
        captureConsole: false,
      });
      await worker.start();
    });

    afterEach(async () => {
      await worker.stop();
      await cleanup();
      await new Promise((resolve) => receiver.close(resolve));
    });

    const pass = (duty: ReturnType<typeof failureNotifications>) =>
      duty.run({ store, now: Date.now(), signal: new AbortController().signal });

    it('tells the definition’s webhook and the global ones, once per failed run', async () => {
      const warnings: string[] = [];
      const duty = failureNotifications({
        webhooks: [`${base}/all`, `${base}/down`],
        attempts: 2,
        warn: (message) => warnings.push(message),
      });
      await pass(duty); // the first pass starts the count
      const failed = await worker.submit(breaks);
      const fine = await worker.submit(works);
      expect((await worker.wait(failed.id)).status).toBe('failed');
      expect((await worker.wait(fine.id)).status).toBe('succeeded');
      await pass(duty);
      await pass(duty);
      expect(received.map((r) => r.path).sort()).toEqual(['/all', '/breaks']);
      for (const r of received) {
        expect(r.key).toBe(`weft-run-failed:${failed.id}`);
        expect(r.body).toMatchObject({
          type: 'run.failed',
          run: { id: failed.id, definition: 'breaks', error: expect.anything() },
          failedSteps: [{ key: 'check', attempt: 1, error: { message: 'bad value 1' } }],
        });
      }
      // The webhook that is down was tried twice, then given up and reported.
      expect(downCalls).toBe(2);
      expect(warnings).toEqual([expect.stringContaining(`${base}/down`)]);
    });

    it('reports no failure from before it started', async () => {
      const before = await worker.submit(breaks);
      const done = await worker.wait(before.id);
      expect(done.status).toBe('failed');
      const duty = failureNotifications({ webhooks: [`${base}/all`] });
      await duty.run({ store, now: done.finishedAt! + 1, signal: new AbortController().signal });
      expect(received).toEqual([]);
    });
  });
}
