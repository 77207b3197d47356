/** `weft graph <file.ts> [pipeline]`: prints the pipeline's DAG as Mermaid or DOT. */
import { renderGraph, type GraphFormat } from '../graph-format.js';
import { loadFile, pickPipeline } from '../load.js';
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
  const definition = pickPipeline(await loadFile(file), name);
  process.stdout.write(`${renderGraph(definition.spec, format)}\n`);
  return 0;
}
