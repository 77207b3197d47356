/**
 * `weft graph <file.ts> [pipeline]`: prints the pipeline's DAG as Mermaid or DOT. A workflow has
 * no static graph — its steps are decided as it runs — so naming one is a usage error that says
 * where to look instead.
 */
import { renderGraph, type GraphFormat } from '../graph-format.js';
import { loadFile, pickDefinition } from '../load.js';
import { UsageError } from '../usage-error.js';

export interface GraphFlags {
  format: string;
}

export async function graphCommand(
  file: string,
  name: string | undefined,
  flags: GraphFlags,
): Promise<number> {
  if (flags.format !== 'mermaid' && flags.format !== 'dot') {
    throw new UsageError(
      `--format ${JSON.stringify(flags.format)} is not supported; use --format mermaid or --format dot`,
    );
  }
  const format: GraphFormat = flags.format;
  const loaded = await loadFile(file);
  const all = loaded.registry.all();
  const noPipelines = all.every((d) => d.kind === 'workflow');
  const definition =
    name === undefined && noPipelines ? null : pickDefinition(loaded, name, 'pipeline');
  if (definition?.kind !== 'pipeline') {
    const which = definition
      ? `workflow ${definition.name} has`
      : `${loaded.file} has only workflows (${all.map((d) => d.name).join(', ')}), and workflows have`;
    throw new UsageError(
      `${which} no static graph: the steps of a workflow are decided as it runs; ` +
        `run it and see its journal with weft show <runId>`,
    );
  }
  process.stdout.write(`${renderGraph(definition.spec, format)}\n`);
  return 0;
}
