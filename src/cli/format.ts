/**
 * Text formatting shared by the CLI commands: colours (only on a terminal), status symbols,
 * times, durations, value previews, and plain tables.
 */
import { inspect } from 'node:util';
import pc from 'picocolors';
import type { RunStatus, StepStatus } from '../core/states.js';

export type Colors = ReturnType<typeof pc.createColors>;

/** Colours for a stream: on for a terminal, off for a pipe or file; `NO_COLOR`/`FORCE_COLOR` win. */
export function colorsFor(stream: NodeJS.WriteStream): Colors {
  const env = process.env;
  const enabled = !('NO_COLOR' in env) && ('FORCE_COLOR' in env || stream.isTTY === true);
  return pc.createColors(enabled);
}

/** A step status as the view shows it: `retrying` is a queued step waiting for its backoff. */
export type ViewStatus = StepStatus | 'retrying';

const SYMBOLS: Record<ViewStatus, string> = {
  pending: '·',
  queued: '○',
  running: '●',
  retrying: '↻',
  succeeded: '✔',
  cached: '✔',
  failed: '✖',
  cancelled: '⊘',
  skipped: '-',
};

export function statusSymbol(status: ViewStatus): string {
  return SYMBOLS[status];
}

export function paintStatus(c: Colors, status: ViewStatus | RunStatus, text: string): string {
  switch (status) {
    case 'succeeded':
    case 'cached':
      return c.green(text);
    case 'failed':
      return c.red(text);
    case 'running':
      return c.cyan(text);
    case 'retrying':
    case 'cancelled':
    case 'waiting':
      return c.yellow(text);
    case 'pending':
    case 'queued':
    case 'skipped':
      return c.dim(text);
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `12:00:01.123`, local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `2026-01-01 12:00:01`, local time. */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** `12 ms`, `1.5 s`, `2m 05s`, `1h 02m`, `3d 04h` (a workflow may wait for days). */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad2(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad2(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d ${pad2(Math.floor((s % 86_400) / 3600))}h`;
}

/** Duration between two optional instants, or `''` when it has not started. */
export function span(start: number | null, end: number | null, now: number): string {
  if (start === null) return '';
  return duration((end ?? now) - start);
}

/** A one-line preview of a value, cut to `max` characters. */
export function preview(value: unknown, max = 120): string {
  const text =
    typeof value === 'string'
      ? JSON.stringify(value)
      : inspect(value, {
          depth: 3,
          breakLength: Infinity,
          maxArrayLength: 20,
          maxStringLength: max,
          colors: false,
        });
  return truncate(text.replace(/\s*\n\s*/g, ' '), max);
}

export function truncate(text: string, max: number): string {
  if (max <= 1) return text.slice(0, Math.max(0, max));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Length of `text` as shown on a terminal (without ANSI escapes). */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex -- matching ANSI escapes is the point
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').length;
}

/** Cuts `text` (which may hold colour escapes) to `width` visible characters. */
export function fitWidth(text: string, width: number): string {
  if (visibleLength(text) <= width) return text;
  let out = '';
  let visible = 0;
  // eslint-disable-next-line no-control-regex -- walking ANSI escapes is the point
  const parts = text.split(/(\x1b\[[0-9;?]*[A-Za-z])/);
  for (const part of parts) {
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    const room = width - 1 - visible;
    if (room <= 0) break;
    out += part.slice(0, room);
    visible += Math.min(part.length, room);
  }
  return `${out}…\x1b[0m`;
}

/** Indents every line of `text`. */
export function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

/** A plain table: a header row and aligned columns separated by two spaces. */
export function table(header: string[], rows: string[][], c: Colors): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd();
  return [c.bold(line(header)), ...rows.map(line)].join('\n');
}

/** `JSON.stringify` for decoded values: BigInt as a string, Map as an object, Set as an array. */
export function toJson(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Map) return Object.fromEntries(v as Map<unknown, unknown>) as unknown;
      if (v instanceof Set) return [...(v as Set<unknown>)];
      if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
      return v === undefined ? null : v;
    },
    space,
  );
}

/** `3 succeeded, 1 failed, 2 skipped` in a stable order. */
export function countsLine(statuses: Iterable<string>, c: Colors): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  const order = [
    'succeeded',
    'cached',
    'failed',
    'cancelled',
    'skipped',
    'running',
    'queued',
    'pending',
  ];
  const keys = [...counts.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return keys.map((k) => paintStatus(c, k as ViewStatus, `${counts.get(k)} ${k}`)).join(', ');
}
