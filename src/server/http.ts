/**
 * HTTP plumbing of the API: JSON bodies in (with a size limit) and out, and the one place an
 * error becomes a status and `{ code, message }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CodecError, ConfigError, InputError, NotFoundError, WeftError } from '../core/errors.js';

/** Largest request body accepted: 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** An error the API answers with: its status and `{ code, message }`. */
export class HttpError extends WeftError {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: string,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.status = status;
    this.headers = options.headers ?? {};
  }
}

/** The body every error response has; an invalid input also lists each field's problem. */
export interface ErrorBody {
  code: string;
  message: string;
  issues?: { path: (string | number)[]; message: string }[];
}

// Errors of the store's driver that mean the database is unreachable right now (Postgres
// restarting, the network down): the request may succeed later, so 503 rather than 500.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
]);

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    error.message,
  );
}

/**
 * The status and body for anything a handler threw. Errors a caller can fix are 4xx with the
 * error's own code; anything else is a 500 (or a 503 when the database is unreachable) whose
 * details go to the server's log, not to the caller.
 */
export function errorResponse(error: unknown): {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  unexpected: boolean;
} {
  const reply = (status: number, e: WeftError, headers: Record<string, string> = {}) => ({
    status,
    body: { code: e.code, message: e.message },
    headers,
    unexpected: false,
  });
  if (error instanceof HttpError) return reply(error.status, error, error.headers);
  if (error instanceof NotFoundError) return reply(404, error);
  if (error instanceof InputError) {
    return {
      ...reply(400, error),
      body: {
        code: error.code,
        message: error.message,
        issues: error.issues.map((i) => ({ path: [...i.path], message: i.message })),
      },
    };
  }
  if (error instanceof ConfigError || error instanceof CodecError) {
    return reply(400, error);
  }
  if (isUnavailable(error)) {
    return {
      status: 503,
      body: {
        code: 'store_unavailable',
        message: 'the database is unreachable right now; try again shortly',
      },
      headers: { 'retry-after': '1' },
      unexpected: true,
    };
  }
  return {
    status: 500,
    body: { code: 'internal', message: 'internal server error; the server log has the details' },
    headers: {},
    unexpected: true,
  };
}

/** Writes a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * Reads a request's JSON body: undefined when there is none, 400 when it is not JSON, 413 past
 * {@link MAX_BODY_BYTES} (told by `content-length` before reading, or counted while reading).
 */
export async function readJsonBody(
  req: IncomingMessage,
  maxBytes = MAX_BODY_BYTES,
): Promise<unknown> {
  const tooLarge = () =>
    new HttpError(
      413,
      'body_too_large',
      `request body is over the limit of ${maxBytes} bytes; send less data (large values belong in a file or bucket, passed by reference)`,
    );
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  // Read by events rather than async iteration: leaving a `for await` early destroys the
  // request, and with it the socket the 413 must go out on. Past the limit the rest of the
  // body is let through unread.
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      chunks.length = 0;
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', resolve);
    req.once('error', reject);
  });
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(
      400,
      'invalid_json',
      `request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}
