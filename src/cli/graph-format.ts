/**
 * A pipeline's DAG as text: Mermaid (`flowchart LR`) or Graphviz DOT. Pure functions of a
 * `PipelineSpec`, so the server can serve the same rendering.
 *
 * ```ts
 * graphMermaid(daily.spec);
 * // flowchart LR
 * //   day[/"day"/]
 * //   orders["orders"]
 * //   day --> orders
 * ```
 */
import type { PipelineSpec } from '../sdk/pipeline.js';

export interface GraphNode {
  name: string;
  kind: 'param' | 'node' | 'map';
  description?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** `over`: the list a map node fans out over; `input`: any other dependency. */
  kind: 'input' | 'over';
}

export interface GraphModel {
  name: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Params first, then nodes in topological order; one edge per dependency. */
export function graphModel(spec: PipelineSpec): GraphModel {
  const nodes: GraphNode[] = spec.paramNames.map((name) => ({ name, kind: 'param' }));
  const edges: GraphEdge[] = [];
  for (const name of spec.order) {
    const node = spec.nodes.get(name);
    if (!node) continue;
    nodes.push({
      name,
      kind: node.kind,
      ...(node.description ? { description: node.description } : {}),
    });
    if (node.over !== null) edges.push({ from: node.over, to: name, kind: 'over' });
    for (const input of node.inputs) {
      if (input.from === node.over) continue;
      if (!edges.some((e) => e.from === input.from && e.to === name)) {
        edges.push({ from: input.from, to: name, kind: 'input' });
      }
    }
  }
  return { name: spec.name, nodes, edges };
}

export type GraphFormat = 'mermaid' | 'dot';

export function renderGraph(spec: PipelineSpec, format: GraphFormat): string {
  return format === 'dot' ? graphDot(spec) : graphMermaid(spec);
}

// Words Mermaid reads as syntax; a node named so gets a generated id.
const MERMAID_RESERVED = new Set([
  'end',
  'graph',
  'flowchart',
  'subgraph',
  'style',
  'class',
  'classdef',
  'click',
  'linkstyle',
  'default',
  'direction',
]);

export function graphMermaid(spec: PipelineSpec): string {
  const model = graphModel(spec);
  const ids = new Map<string, string>();
  model.nodes.forEach((n, i) => {
    const safe =
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(n.name) && !MERMAID_RESERVED.has(n.name.toLowerCase());
    ids.set(n.name, safe ? n.name : `n${i}_${n.name.replace(/[^A-Za-z0-9_]/g, '_')}`);
  });
  const id = (name: string) => ids.get(name) ?? name;
  const label = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;
  const lines = ['flowchart LR'];
  for (const n of model.nodes) {
    if (n.kind === 'param') lines.push(`  ${id(n.name)}[/${label(n.name)}/]:::param`);
    else if (n.kind === 'map')
      lines.push(`  ${id(n.name)}[[${label(`${n.name} (fan-out)`)}]]:::map`);
    else lines.push(`  ${id(n.name)}[${label(n.name)}]`);
  }
  for (const e of model.edges) {
    lines.push(
      e.kind === 'over'
        ? `  ${id(e.from)} -->|each| ${id(e.to)}`
        : `  ${id(e.from)} --> ${id(e.to)}`,
    );
  }
  lines.push('  classDef param fill:#eef4ff,stroke:#6b8acb');
  lines.push('  classDef map fill:#fff6e5,stroke:#c9962b');
  return lines.join('\n');
}

export function graphDot(spec: PipelineSpec): string {
  const model = graphModel(spec);
  const q = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = [
    `digraph ${q(model.name)} {`,
    '  rankdir=LR;',
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
  ];
  for (const n of model.nodes) {
    const tooltip = n.description ? `, tooltip=${q(n.description)}` : '';
    if (n.kind === 'param')
      lines.push(`  ${q(n.name)} [shape=parallelogram, style=solid${tooltip}];`);
    else if (n.kind === 'map') {
      // `\n` in a DOT label is a line break, so it is added after quoting.
      const label = `${q(n.name).slice(0, -1)}\\n(fan-out)"`;
      lines.push(`  ${q(n.name)} [shape=box3d, style=solid, label=${label}${tooltip}];`);
    } else lines.push(`  ${q(n.name)}${tooltip ? ` [${tooltip.slice(2)}]` : ''};`);
  }
  for (const e of model.edges) {
    lines.push(
      `  ${q(e.from)} -> ${q(e.to)}${e.kind === 'over' ? ' [label="each", style=bold]' : ''};`,
    );
  }
  lines.push('}');
  return lines.join('\n');
}
