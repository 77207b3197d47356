/**
 * What went wrong with a request, as the UI shows it. Every `ApiError` (and anything else a
 * request throws) narrows to one of these kinds, and the views switch over them exhaustively.
 */
import { ApiError, type InputIssue } from '../../../src/client/index.js';

export type UiError =
  /** The server wants a bearer token (or a better one). */
  | { kind: 'unauthorized'; message: string }
  /** No such run, definition, or route (a server older than this UI). */
  | { kind: 'not-found'; message: string }
  /** The server could not be reached at all. */
  | { kind: 'unreachable'; message: string }
  /** The server is up but its database is not (503): worth retrying. */
  | { kind: 'unavailable'; message: string }
  /** The request was refused as given (4xx): the message says what to fix. */
  | {
      kind: 'rejected';
      status: number;
      code: string;
      message: string;
      /** With `invalid_input`: each field's problem, by its path in the input. */
      issues: readonly InputIssue[];
    }
  /** A server bug (5xx) or an answer the UI does not understand. */
  | { kind: 'failed'; status: number; code: string; message: string };

export function toUiError(error: unknown): UiError {
  if (error instanceof ApiError) {
    const { status, code, message } = error;
    if (status === 0) return { kind: 'unreachable', message };
    if (status === 401) return { kind: 'unauthorized', message };
    if (status === 404) return { kind: 'not-found', message };
    if (status === 503) return { kind: 'unavailable', message };
    if (status >= 400 && status < 500) {
      return { kind: 'rejected', status, code, message, issues: error.issues };
    }
    return { kind: 'failed', status, code, message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'failed', status: 0, code: 'client', message };
}

/** A one-line title for an error, for banners and empty panels. */
export function errorTitle(error: UiError): string {
  switch (error.kind) {
    case 'unauthorized':
      return 'Sign-in required';
    case 'not-found':
      return 'Not found';
    case 'unreachable':
      return 'Server unreachable';
    case 'unavailable':
      return 'Database unavailable';
    case 'rejected':
      return `Request refused (${error.code})`;
    case 'failed':
      return error.status ? `Server error ${error.status}` : 'Something went wrong';
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
