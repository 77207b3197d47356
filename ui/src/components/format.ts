/** Text for times, durations and sizes, shared by the primitives and pages. */

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.floor(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function formatRelative(at: number, now: number): string {
  const diff = now - at;
  const abs = Math.abs(diff);
  const future = diff < 0;
  const unit = (n: number, u: string) => {
    const text = `${n} ${u}${n === 1 ? '' : 's'}`;
    return future ? `in ${text}` : `${text} ago`;
  };
  // The clock is re-read every few seconds, so something that just happened can look a little
  // in the future: that is "just now" too.
  if (diff > -15_000 && diff < 5_000) return 'just now';
  if (abs < 60_000) return unit(Math.floor(abs / 1000), 'second');
  if (abs < 3_600_000) return unit(Math.floor(abs / 60_000), 'minute');
  if (abs < 86_400_000) return unit(Math.floor(abs / 3_600_000), 'hour');
  return unit(Math.floor(abs / 86_400_000), 'day');
}

export function formatTimestamp(at: number): string {
  const d = new Date(at);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatClock(at: number): string {
  const d = new Date(at);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A run or step id shortened for tables: the prefix and the last characters. */
export function shortId(id: string): string {
  const cut = id.indexOf('_');
  return cut > 0 && id.length > cut + 9 ? `${id.slice(0, cut + 1)}…${id.slice(-8)}` : id;
}
