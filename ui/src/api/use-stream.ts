/**
 * Follows `GET /api/stream` while mounted: every message goes to `onMessage`. When the stream
 * drops it reconnects with a growing delay, and sends a `reset` first, since messages may have
 * been missed meanwhile. A server without the stream (404) is left alone: pages still work,
 * only not live.
 */
import { useEffect, useRef, useState } from 'react';
import type { StreamMessage } from '../../../src/client/index.js';
import { useApiContext } from './client.js';
import { toUiError } from './errors.js';

export type StreamStatus = 'connecting' | 'live' | 'retrying' | 'unsupported' | 'off';

const MAX_DELAY_MS = 10_000;

export function useStream(
  query: { run?: string } | null,
  onMessage: (message: StreamMessage) => void,
): StreamStatus {
  const { client, requireSignIn } = useApiContext();
  const [status, setStatus] = useState<StreamStatus>(query ? 'connecting' : 'off');
  const handler = useRef(onMessage);
  handler.current = onMessage;
  const run = query?.run;
  const enabled = query !== null;

  useEffect(() => {
    if (!enabled) {
      setStatus('off');
      return;
    }
    const controller = new AbortController();
    const { signal } = controller;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const connect = async (attempt: number): Promise<void> => {
      // The stream says nothing until something changes, so it counts as live once asked for.
      setStatus(attempt === 0 ? 'live' : 'retrying');
      let opened = false;
      try {
        await client.stream(
          run === undefined ? {} : { run },
          (message) => {
            if (!opened) {
              opened = true;
              setStatus('live');
            }
            handler.current(message);
          },
          signal,
        );
      } catch (error) {
        const uiError = toUiError(error);
        if (uiError.kind === 'not-found') return setStatus('unsupported');
        if (uiError.kind === 'unauthorized') {
          requireSignIn();
          return setStatus('off');
        }
      }
      if (signal.aborted) return;
      const next = opened ? 1 : attempt + 1;
      const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** Math.min(next, 5));
      setStatus('retrying');
      timer = setTimeout(() => {
        // What happened while disconnected is unknown: reload, then follow again.
        handler.current({ type: 'reset' });
        void connect(next);
      }, delay);
    };
    void connect(0);
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [client, enabled, run, requireSignIn]);

  return status;
}
