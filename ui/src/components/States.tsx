/**
 * What a list or page shows while loading, when empty, and when its request failed. The error
 * view narrows the {@link UiError} kinds: sign-in, not found, unreachable and the rest.
 */
import type { ReactNode } from 'react';
import { errorTitle, type UiError } from '../api/errors.js';
import { Button } from './Button.js';

export function Loading({ label = 'Loading…', inline }: { label?: string; inline?: boolean }) {
  return (
    <div className={inline ? 'state state-inline' : 'state'} data-testid="state-loading">
      <span className="spinner" aria-hidden />
      <span className="muted">{label}</span>
    </div>
  );
}

export function EmptyState({
  title,
  children,
  inline,
}: {
  title: string;
  children?: ReactNode;
  inline?: boolean;
}) {
  return (
    <div className={inline ? 'state state-inline' : 'state'} data-testid="state-empty">
      <div className="state-title">{title}</div>
      {children && <div className="state-detail">{children}</div>}
    </div>
  );
}

function hint(error: UiError): ReactNode {
  switch (error.kind) {
    case 'unauthorized':
      return 'This server needs a bearer token: sign in with the token it was started with.';
    case 'not-found':
      return error.message;
    case 'unreachable':
      return 'Is `weft server` running? This page retries when you reload.';
    case 'unavailable':
      return `${error.message} — the server keeps trying; retry in a moment.`;
    case 'rejected':
    case 'failed':
      return error.message;
  }
}

export function ErrorState({
  error,
  onRetry,
  inline,
}: {
  error: UiError;
  onRetry?: () => void;
  inline?: boolean;
}) {
  return (
    <div
      className={inline ? 'state state-error state-inline' : 'state state-error'}
      data-testid="state-error"
      data-error-kind={error.kind}
      role="alert"
    >
      <div className="state-title">{errorTitle(error)}</div>
      <div className="state-detail">{hint(error)}</div>
      {onRetry && error.kind !== 'unauthorized' && (
        <Button size="sm" onClick={onRetry}>
          Retry
        </Button>
      )}
    </div>
  );
}

/** An error right where an action was taken (a form, a button row). */
export function InlineError({ error, testId }: { error: UiError | null; testId?: string }) {
  if (!error) return null;
  return (
    <div className="inline-error" role="alert" data-testid={testId}>
      <strong>{errorTitle(error)}:</strong> {error.message}
    </div>
  );
}
