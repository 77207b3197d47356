/** Times as people read them: "3 minutes ago" (exact time on hover) and running durations. */
import { formatDuration, formatRelative, formatTimestamp } from './format.js';
import { useNow } from './use-now.js';

export function RelativeTime({ at }: { at: number | null | undefined }) {
  const now = useNow(5000);
  if (at === null || at === undefined) return <span className="muted">–</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatTimestamp(at)}>
      {formatRelative(at, now)}
    </time>
  );
}

/** From `start` to `end`; with no end yet it counts up live. */
export function Duration({
  start,
  end,
}: {
  start: number | null | undefined;
  end: number | null | undefined;
}) {
  const live = start !== null && start !== undefined && (end === null || end === undefined);
  const now = useNow(1000, live);
  if (start === null || start === undefined) return <span className="muted">–</span>;
  const stop = end ?? now;
  return (
    <span className={live ? 'duration live' : 'duration'}>{formatDuration(stop - start)}</span>
  );
}
