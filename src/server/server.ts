/**
 * The API server: `node:http`, a route table, and one place where errors become responses.
 * It never loads user code: what it knows of pipelines and workflows comes from the store
 * (runs, steps, the definitions workers registered).
 */
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { Engine } from '../engine/engine.js';
import { canCheckInput } from '../engine/trigger.js';
import type { Store } from '../store/contract/store.js';
import type { ApiContext } from './api-context.js';
import { requireToken } from './auth.js';
import { errorResponse, HttpError, MAX_BODY_BYTES, readJsonBody, sendJson } from './http.js';
import { LiveHub, type LiveOptions } from './live.js';
import { openApiRoutes } from './openapi.js';
import { Router, type RequestContext, type Route } from './router.js';
import { clusterRoutes } from './routes/cluster.js';
import { eventRoutes } from './routes/events.js';
import { actionRoutes } from './routes/actions.js';
import { backfillRoutes } from './routes/backfills.js';
import { runRoutes } from './routes/runs.js';
import { scheduleRoutes } from './routes/schedules.js';
import { sensorRoutes } from './routes/sensors.js';
import { streamRoutes } from './routes/stream.js';
import { defaultUiDir, serveUi } from './static-ui.js';

export interface ServerOptions {
  store: Store;
  /** When set, every `/api` route but `/api/health` needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Whether this process runs the cluster's maintenance (a `Maintenance`'s `isLeader`). */
  leader?: () => boolean;
  clock?: Clock;
  /** Heartbeat age after which `/api/workers` shows a worker as not alive. Default 60 s. */
  staleAfterMs?: number;
  /** Largest request body, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Reported in `/api/health`. Default the version of this package. */
  version?: string;
  /**
   * An engine of the caller's that has the definitions' code (`weft dev`): runs triggered
   * through the API are checked and planned with the code, and the engine hears of them at
   * once. It stays the caller's: `close()` does not stop it. Default a client engine of the
   * server's own, which triggers from the definitions workers registered.
   */
  engine?: Engine;
  /**
   * The folder of the built web UI, served outside `/api` (default `dist/ui` of this package),
   * or false to serve the API alone.
   */
  ui?: string | false;
  /**
   * How often `GET /api/stream` reads the store: one run's changes every `runMs` (default
   * 250), every run's every `runsMs` (default 500); a comment every `pingMs` (default 15 s).
   */
  live?: Pick<LiveOptions, 'runMs' | 'runsMs' | 'pingMs'>;
  /** Where unexpected errors (a 500) go. Default a line and stack on stderr. */
  onError?: (error: unknown, request: { method: string; path: string }) => void;
}

export interface WeftServer {
  readonly server: Server;
  /** The request listener, to serve the API from another `node:http` server. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** The API's routes, as the router matches them. */
  readonly routes: readonly Pick<Route, 'method' | 'path' | 'public'>[];
  /** Starts listening (port 0: any free port); resolves with where. */
  listen(port?: number, host?: string): Promise<{ host: string; port: number; url: string }>;
  /**
   * Stops accepting connections, lets requests in progress finish for up to `graceMs`
   * (default 5 s), then closes what is left.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

function packageVersion(): string {
  try {
    // Two levels up from src/server (and from dist/server) is the package root.
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function defaultOnError(error: unknown, request: { method: string; path: string }): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`weft server: ${request.method} ${request.path} failed: ${detail}\n`);
}

/** Loopback addresses: a server bound to one of them is reachable from this machine only. */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** A URL's host part: an IPv6 address goes in brackets. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Creates the API server over a store. The store stays the caller's: `close()` does not close
 * it.
 *
 * ```ts
 * const api = createServer({ store, token: process.env.WEFT_TOKEN });
 * const { url } = await api.listen(8080, '127.0.0.1');
 * // …
 * await api.close();
 * ```
 */
export function createServer(options: ServerOptions): WeftServer {
  const clock = options.clock ?? systemClock;
  const token = options.token || undefined;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const onError = options.onError ?? defaultOnError;
  const uiDir = options.ui === false ? null : (options.ui ?? defaultUiDir());
  const ownEngine = options.engine
    ? null
    : new Engine({
        store: options.store,
        definitions: [],
        clock,
        worker: false,
        captureConsole: false,
      });
  const engine = options.engine ?? ownEngine!;
  const api: ApiContext = {
    store: options.store,
    engine,
    clock,
    version: options.version ?? packageVersion(),
    staleAfterMs: options.staleAfterMs ?? 60_000,
    isLeader: options.leader ?? (() => false),
    canTrigger: (record) => engine.registry.has(record.name) || canCheckInput(record),
    live: new LiveHub(options.store, {
      ...options.live,
      onError: (error) => onError(error, { method: 'GET', path: '/api/stream' }),
    }),
  };
  // An engine in this process says at once what it changed: streams need not wait for a poll.
  const stopHearing = engine.on((event) => api.live.poke(event.runId));
  const router = new Router([
    ...clusterRoutes(api),
    ...runRoutes(api),
    ...actionRoutes(api),
    ...eventRoutes(api),
    ...scheduleRoutes(api),
    ...backfillRoutes(api),
    ...sensorRoutes(api),
    ...streamRoutes(api),
    ...openApiRoutes(api),
  ]);

  async function dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const match = router.match(method, url.pathname);
    const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/');
    if (!isApi && uiDir !== null && (method === 'GET' || method === 'HEAD')) {
      if (await serveUi(uiDir, req, res, url.pathname)) return;
    }
    if (token && isApi && !(match.kind === 'found' && match.route.public)) {
      requireToken(req, token);
    }
    if (match.kind === 'none') {
      throw new HttpError(
        404,
        'not_found',
        `no route for ${method} ${url.pathname}; the API is under /api (see docs/api.md)`,
      );
    }
    if (match.kind === 'wrong-method') {
      throw new HttpError(
        405,
        'method_not_allowed',
        `${method} is not allowed on ${url.pathname}; use ${match.allowed.join(' or ')}`,
        { headers: { allow: match.allowed.join(', ') } },
      );
    }
    const context: RequestContext = {
      req,
      res,
      url,
      params: match.params,
      query: url.searchParams,
      body: () => readJsonBody(req, maxBodyBytes),
    };
    const result = await match.route.handler(context);
    // A streaming route (`GET /api/stream`) has answered already and goes on writing.
    if (res.headersSent) return;
    sendJson(res, result.status, result.body, result.headers);
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    dispatch(req, res, url).catch((error: unknown) => {
      const { status, body, headers, unexpected } = errorResponse(error);
      if (unexpected) onError(error, { method: req.method ?? 'GET', path: url.pathname });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A request whose body was not read to its end (refused before or while reading):
      // close the connection rather than read the rest of it.
      const unread = !req.complete;
      sendJson(res, status, body, unread ? { ...headers, connection: 'close' } : headers);
    });
  };

  const server = createHttpServer(handle);

  return {
    server,
    handle,
    routes: router.routes,
    async listen(port = 8080, host = '127.0.0.1') {
      if (!token && !isLoopback(host)) {
        throw new ConfigError(
          'token_required',
          `refusing to listen on ${host} without a token: anyone who can reach it could read and cancel runs; give a token (weft server --token, or WEFT_TOKEN), or listen on 127.0.0.1`,
        );
      }
      if (ownEngine?.state === 'created') await ownEngine.start();
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      return {
        host,
        port: address.port,
        url: `http://${urlHost(host)}:${address.port}`,
      };
    },
    async close({ graceMs = 5000 } = {}) {
      // Open streams would hold their connections until the grace period ends: end them first.
      stopHearing();
      api.live.close();
      const closed = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      force.unref();
      await closed;
      clearTimeout(force);
      await ownEngine?.stop();
    },
  };
}
