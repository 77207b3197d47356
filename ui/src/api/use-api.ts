/**
 * Loads something from the API and keeps it: `loading`, then `ready` with the data or `error`
 * with a {@link UiError}. A reload keeps showing the previous data until the new one arrives,
 * so live pages refresh without flashing a spinner. A 401 asks for sign-in.
 *
 * A live update that comes while a load is under way may be newer than what the load read (a
 * stream message sent as the page opens): the load's answer would overwrite it, or it could
 * not be applied at all. Such a load is followed by one more.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { WeftClient } from './client.js';
import { useApiContext } from './client.js';
import { isAbort, toUiError, type UiError } from './errors.js';

export type ApiState<T> =
  | { status: 'loading' }
  /** `reloading`: other arguments are being loaded; `data` is for the previous ones. */
  | { status: 'ready'; data: T; reloading: boolean }
  | { status: 'error'; error: UiError };

export interface ApiResult<T> {
  state: ApiState<T>;
  /** Loads again, keeping the current data on screen meanwhile. */
  reload: () => void;
  /** Replaces the data in place (a live update applied locally; see above during a load). */
  update: (fn: (data: T) => T) => void;
}

export function useApi<T>(
  load: (client: WeftClient, signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): ApiResult<T> {
  const { client, requireSignIn } = useApiContext();
  const [state, setState] = useState<ApiState<T>>({ status: 'loading' });
  const [generation, setGeneration] = useState(0);
  // The loader changes every render; the effect runs on `deps` only, as the caller says.
  const loadRef = useRef(load);
  loadRef.current = load;

  const lastGeneration = useRef(generation);
  /** Whether a load is under way, and whether an update came meanwhile. */
  const loading = useRef(false);
  const missed = useRef(false);

  useEffect(() => {
    const controller = new AbortController();
    // A reload of the same thing (live refresh, polling) is silent; other arguments (a filter,
    // the next page) mark the data shown as stale until the new answer arrives.
    const silent = lastGeneration.current !== generation;
    lastGeneration.current = generation;
    setState((s) => (s.status === 'ready' ? { ...s, reloading: !silent } : { status: 'loading' }));
    loading.current = true;
    missed.current = false;
    loadRef.current(client, controller.signal).then(
      (data) => {
        if (controller.signal.aborted) return;
        loading.current = false;
        setState({ status: 'ready', data, reloading: false });
        if (missed.current) setGeneration((g) => g + 1);
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbort(error)) return;
        loading.current = false;
        const uiError = toUiError(error);
        if (uiError.kind === 'unauthorized') requireSignIn();
        setState({ status: 'error', error: uiError });
      },
    );
    return () => controller.abort();
    // The caller's `deps` say when to load again, as for useEffect itself.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- deps are the caller's to list
  }, [client, generation, requireSignIn, ...deps]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const update = useCallback((fn: (data: T) => T) => {
    if (loading.current) missed.current = true;
    setState((s) => (s.status === 'ready' ? { ...s, data: fn(s.data) } : s));
  }, []);
  return { state, reload, update };
}

/** The data when ready, else undefined: for pages that show parts as they arrive. */
export function dataOf<T>(state: ApiState<T>): T | undefined {
  return state.status === 'ready' ? state.data : undefined;
}
