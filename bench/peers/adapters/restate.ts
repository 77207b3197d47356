/**
 * Restate: a server with its own durable log and state (RocksDB on local disk, not Postgres)
 * that pushes invocations to a service endpoint over HTTP/2. The server is the
 * `@restatedev/restate-server` package with its defaults (a fresh one per measurement); the
 * service is the TypeScript SDK's HTTP/2 endpoint. A task is a handler invocation, a durable
 * step `ctx.run`, fan-out 100 calls from a handler awaited with `RestatePromise.all`.
 *
 * Restate has no queue to fill while no worker runs, so the drain sends every invocation with
 * a delay that ends after the last send (`IngressSendOptions.delay`): they are durably accepted
 * during the enqueue and all become due at once. One deployment is one endpoint URI, so
 * several worker processes would need a load balancer in front of them: not measured.
 */
import * as restate from '@restatedev/restate-sdk';
import * as clients from '@restatedev/restate-sdk-clients';
import { inFlight, sleep, uid, wallNow, type Peer, type PeerConfig } from '../adapter.js';

const SEND_IN_FLIGHT = 32;

// The SDK calls `Promise.withResolvers` (Node 22) and declares no engines: on Node 20 it gets
// this equivalent.
const withResolvers = <T>() => {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
(Promise as unknown as { withResolvers?: unknown }).withResolvers ??= withResolvers;

let onDone: () => void = () => undefined;
const starts = new Map<string, number>();

interface Item {
  item(i: number): Promise<number>;
}

const bench = restate.service({
  name: 'bench',
  handlers: {
    noop: async (_ctx: restate.Context, _n: number) => {
      onDone();
      return 0;
    },
    calibrate: async (_ctx: restate.Context, _n: number) => 0,
    rt: async (_ctx: restate.Context, id: string) => {
      starts.set(id, wallNow());
      return 0;
    },
    item: async (_ctx: restate.Context, i: number) => i + 1,
    tenSteps: async (ctx: restate.Context, _n: number) => {
      let total = 0;
      for (let i = 0; i < 10; i++) total += await ctx.run(`s${i}`, async () => i);
      return total;
    },
    seq40: async (ctx: restate.Context, _n: number) => {
      let last = 0;
      for (let i = 0; i < 40; i++) {
        last = await ctx.run(`t${i}`, async () => {
          await sleep(10);
          return i;
        });
      }
      return last;
    },
    fan: async (ctx: restate.Context, _n: number) => {
      const n = await ctx.run('root', async () => 100);
      const client = ctx.serviceClient<Item>({ name: 'bench' }) as unknown as {
        item(i: number): restate.RestatePromise<number>;
      };
      const calls = Array.from({ length: n }, (_, i) => client.item(i));
      const results = await restate.RestatePromise.all(calls);
      return ctx.run('join', async () => results.length);
    },
  },
});

/** Serves the endpoint on a free port and registers it with the server. */
async function serve(config: PeerConfig): Promise<void> {
  const port = await restate.endpoint().bind(bench).listen(0);
  const response = await fetch(`${config.restate!.admin}/deployments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri: `http://127.0.0.1:${port}`, force: true }),
  });
  if (!response.ok) throw new Error(`registering the deployment: ${await response.text()}`);
}

const ingress = (config: PeerConfig) =>
  clients.connect({ url: config.restate!.ingress }).serviceClient(bench);
const sender = (config: PeerConfig) =>
  clients.connect({ url: config.restate!.ingress }).serviceSendClient(bench);

export const restateServer: Peer = {
  id: 'restate',
  label: 'Restate',
  backend: 'restate',
  version: '@restatedev/restate-server 1.7.12, @restatedev/restate-sdk 1.17.2',
  settings: [
    'server defaults (its own log and state on local disk; single node)',
    'the SDK needs Promise.withResolvers (Node 22): the adapter adds it on Node 20',
    'SDK logging at WARN (RESTATE_LOGGING, set by the harness; its default INFO logs every invocation)',
    'service: the SDK endpoint over HTTP/2 (restate.endpoint().listen)',
    `enqueue: one-way sends through the ingress, ${SEND_IN_FLIGHT} in flight, each delayed until after the last send`,
  ],
  notApplicable: {
    '6:2': 'one deployment is one endpoint URI; more worker processes need a load balancer',
    '6:4': 'one deployment is one endpoint URI; more worker processes need a load balancer',
  },
  shapes: {
    '2': 'a handler called through the ingress (request–response)',
    '3': 'a handler with 10 ctx.run steps',
    '4': 'a handler: ctx.run root, 100 service calls awaited with RestatePromise.all, ctx.run join',
    '5': 'a handler with 40 ctx.run steps',
  },
  workersFirst: true,
  async enqueue(config, n) {
    const send = sender(config);
    // How fast sends go here, to set the due time just after the last one.
    const calibration = Math.min(200, n);
    const c0 = performance.now();
    await inFlight(calibration, SEND_IN_FLIGHT, () => send.calibrate(0));
    const perSend = (performance.now() - c0) / calibration;
    const dueAt = wallNow() + perSend * n * 1.5 + 1000;
    const t0 = performance.now();
    await inFlight(n, SEND_IN_FLIGHT, () =>
      send.noop(0, clients.rpc.sendOpts({ delay: Math.max(0, Math.round(dueAt - wallNow())) })),
    );
    const ms = performance.now() - t0;
    return { ms, method: `one-way sends with a delay, ${SEND_IN_FLIGHT} in flight`, dueAt };
  },
  async worker(config) {
    await serve(config);
    return {
      async start(done) {
        onDone = done;
      },
      async stop() {
        onDone = () => undefined;
      },
    };
  },
  async local(config) {
    await serve(config);
    const client = ingress(config);
    return {
      async roundTrip() {
        const id = uid('rt');
        const t0 = wallNow();
        await client.rt(id);
        const result = wallNow() - t0;
        return { start: starts.get(id)! - t0, result };
      },
      workflow10: async () => void (await client.tenSteps(0)),
      seq40: async () => void (await client.seq40(0)),
      async fan() {
        const joined = await client.fan(0);
        if (joined !== 100) throw new Error(`join saw ${joined}`);
      },
      async close() {},
    };
  },
};
