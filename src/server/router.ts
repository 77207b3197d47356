/**
 * A small router: a table of routes, each a method, a path pattern (`/api/runs/:id`) and a
 * handler that returns a {@link Reply}. A path that matches with another method is a 405 (with
 * `Allow`), a path that matches nothing a 404; the server turns both into `{ code, message }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The path's `:name` segments, decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The JSON body (undefined when empty); 400 when not JSON, 413 when too large. */
  body: () => Promise<unknown>;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Handler = (context: RequestContext) => Promise<Reply>;

export interface Route {
  method: Method;
  /** `/api/runs/:id/logs`: literal segments and `:name` parameters. */
  path: string;
  handler: Handler;
  /** Served without the bearer token (health checks). */
  public?: boolean;
}

/** A JSON reply, 200 unless told. */
export function reply(body: unknown, status = 200): Reply {
  return { status, body };
}

interface Compiled {
  route: Route;
  segments: readonly string[];
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrong-method'; allowed: Method[] }
  | { kind: 'none' };

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(
  pattern: readonly string[],
  actual: readonly string[],
): Record<string, string> | null {
  if (pattern.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const a = actual[i]!;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(a);
      } catch {
        return null; // malformed escape: matches nothing
      }
    } else if (p !== a) return null;
  }
  return params;
}

export class Router {
  readonly #routes: Compiled[] = [];

  constructor(routes: Iterable<Route> = []) {
    for (const r of routes) this.add(r);
  }

  /** The routes, in the order they are matched. */
  get routes(): Route[] {
    return this.#routes.map((c) => c.route);
  }

  add(route: Route): this {
    this.#routes.push({ route, segments: splitPath(route.path) });
    return this;
  }

  match(method: string, pathname: string): Match {
    const actual = splitPath(pathname);
    const allowed: Method[] = [];
    for (const { route, segments } of this.#routes) {
      const params = matchSegments(segments, actual);
      if (!params) continue;
      if (route.method === method) return { kind: 'found', route, params };
      if (!allowed.includes(route.method)) allowed.push(route.method);
    }
    return allowed.length ? { kind: 'wrong-method', allowed } : { kind: 'none' };
  }
}
