/**
 * `GET /api/stream`: server-sent events of one run (`?run=<id>`: the run, its steps, its log
 * lines) or of every run's transitions, read from the store by the server's live hub.
 */
import type { ServerResponse } from 'node:http';
import type { ApiContext } from '../api-context.js';
import type { StreamMessage } from '../api-types.js';
import { HttpError } from '../http.js';
import type { LiveChange } from '../live.js';
import { queryString, queryValueMode } from '../params.js';
import { reply, type Route } from '../router.js';
import { runView, stepView, type ValueMode } from '../views.js';

/** How long a client waits before it reconnects a stream that broke (the `retry:` field). */
const RETRY_MS = 2000;
/**
 * Bytes a slow client may leave unread: past it the stream stops sending until it drains, then
 * sends `reset` (what it missed is to be read again).
 */
const MAX_BUFFERED = 1024 * 1024;

function toMessage(change: LiveChange, mode: ValueMode): StreamMessage {
  switch (change.type) {
    case 'run':
      return { type: 'run', run: runView(change.run, mode) };
    case 'step':
      return { type: 'step', step: stepView(change.step, mode) };
    case 'log':
      return { type: 'log', log: change.log };
    case 'reset':
      return { type: 'reset' };
  }
}

function write(res: ServerResponse, message: StreamMessage): void {
  res.write(`event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`);
}

export function streamRoutes(api: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/stream',
      // Answers at once with the stream's headers; the stream then stays open until the client
      // leaves or the server closes. The route's reply is the stream itself: the server sends
      // nothing more once the headers are out.
      async handler({ res, query }) {
        const runId = queryString(query, 'run');
        const mode = queryValueMode(query);
        if (runId !== undefined && !(await api.store.getRun(runId))) {
          throw new HttpError(
            404,
            'not_found',
            `run ${JSON.stringify(runId)} not found; list runs with GET /api/runs`,
          );
        }
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          // The connection is the stream's: once it ends, so does the connection.
          connection: 'close',
          // Proxies such as nginx would otherwise buffer the events.
          'x-accel-buffering': 'no',
        });
        res.write(`retry: ${RETRY_MS}\n\n`);

        let behind = false;
        const onDrain = () => {
          behind = false;
          write(res, { type: 'reset' });
        };
        const ping = setInterval(() => res.write(': ping\n\n'), api.live.pingMs);
        ping.unref();
        let done = false;
        let unsubscribe = () => {};
        const stop = () => {
          if (done) return;
          done = true;
          clearInterval(ping);
          unsubscribe();
          res.off('drain', onDrain);
        };
        unsubscribe = api.live.subscribe(runId ?? null, {
          send(change) {
            if (done || behind) return;
            write(res, toMessage(change, mode));
            if (res.writableLength > MAX_BUFFERED) {
              behind = true;
              res.once('drain', onDrain);
            }
          },
          end() {
            stop();
            res.end();
          },
        });
        // The response closes when the client goes away (or the server ends the stream).
        res.once('close', stop);
        return reply(null);
      },
    },
  ];
}
