/**
 * The current time, re-read on an interval shared by every subscriber: a table of relative
 * times and running durations costs one timer, not one per cell.
 */
import { useCallback, useSyncExternalStore } from 'react';

interface Channel {
  listeners: Set<() => void>;
  timer: number;
  now: number;
}

const channels = new Map<number, Channel>();

function channel(intervalMs: number): Channel {
  let entry = channels.get(intervalMs);
  if (!entry) {
    const created: Channel = { listeners: new Set(), timer: 0, now: Date.now() };
    created.timer = window.setInterval(() => {
      // Stopped on the first tick nobody listens to, not at the last unsubscribe: a component
      // that re-subscribes right away must find the same snapshot, or React renders forever.
      if (created.listeners.size === 0) {
        window.clearInterval(created.timer);
        channels.delete(intervalMs);
        return;
      }
      created.now = Date.now();
      for (const listener of created.listeners) listener();
    }, intervalMs);
    channels.set(intervalMs, created);
    entry = created;
  }
  return entry;
}

const never = () => () => {};

export function useNow(intervalMs = 1000, enabled = true): number {
  const subscribe = useCallback(
    (listener: () => void) => {
      const entry = channel(intervalMs);
      entry.listeners.add(listener);
      return () => entry.listeners.delete(listener);
    },
    [intervalMs],
  );
  return useSyncExternalStore(enabled ? subscribe : never, () =>
    enabled ? channel(intervalMs).now : 0,
  );
}
