/**
 * The HTTP API of Weft (`weft server`): runs, their steps, attempts and logs, cancel, events,
 * workers and definitions, under `/api`, as JSON. Errors are `{ code, message }` with a 4xx
 * status when the caller can fix them. See docs/api.md.
 *
 * ```ts
 * const api = createServer({ store, token: process.env.WEFT_TOKEN });
 * const { url } = await api.listen(8080, '127.0.0.1');
 * ```
 */
export { createServer, isLoopback, type ServerOptions, type WeftServer } from './server.js';
export { HttpError, MAX_BODY_BYTES, type ErrorBody } from './http.js';
export {
  Router,
  reply,
  type Handler,
  type Method,
  type Reply,
  type RequestContext,
  type Route,
} from './router.js';
export { toJsonValue, type ValueMode } from './views.js';
/** The shapes of every route's request and response (what `weft/client` is typed with). */
export type * from './api-types.js';
export { OUTPUT_PREVIEW_BYTES } from './api-types.js';
