import { describe, expect, it } from 'vitest';
import { fixture, weft } from './helpers.js';

describe.concurrent('weft graph', () => {
  it('prints Mermaid by default: params and fan-out nodes shaped apart, one edge per dependency', async () => {
    const r = await weft(['graph', fixture('multi.ts'), 'alpha']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('flowchart LR');
    expect(lines).toContain('  day[/"day"/]:::param');
    expect(lines).toContain('  orders["orders"]');
    expect(lines).toContain('  perRegion[["perRegion (fan-out)"]]:::map');
    const edges = lines.filter((l) => l.includes('-->')).map((l) => l.trim());
    expect(edges.sort()).toEqual(
      [
        'day --> orders',
        'orders --> regions',
        'regions -->|each| perRegion',
        'orders --> perRegion',
        'perRegion --> summary',
        'day --> summary',
      ].sort(),
    );
  });

  it('prints Graphviz DOT with --format dot', async () => {
    const r = await weft(['graph', fixture('basic.ts'), '--format', 'dot']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^digraph "basic" \{\n {2}rankdir=LR;/);
    expect(r.stdout).toContain('  "n" [shape=parallelogram, style=solid];');
    expect(r.stdout).toContain(
      '  "doubled" [shape=box3d, style=solid, label="doubled\\n(fan-out)"];',
    );
    const edges = r.stdout
      .split('\n')
      .filter((l) => l.includes('->'))
      .map((l) => l.trim());
    expect(edges.sort()).toEqual(
      [
        '"n" -> "numbers";',
        '"numbers" -> "doubled" [label="each", style=bold];',
        '"doubled" -> "total";',
        '"n" -> "echo";',
        '"label" -> "echo";',
        '"tags" -> "echo";',
        '"total" -> "report";',
        '"label" -> "report";',
        '"tags" -> "report";',
      ].sort(),
    );
    expect(r.stdout.trimEnd().endsWith('}')).toBe(true);
  });
});
