/**
 * The numbered migration files of a backend (`0001_init.sql`, `0002_workflows.sql`, …): one
 * set per dialect, beside the backend's module, never edited once released.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE = /^(\d+)_([\w-]+)\.sql$/;

/** The migration files of a folder, in version order; two files of one version are an error. */
export function readMigrations(dir: URL): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const match = FILE.exec(file);
    if (!match) continue;
    out.push({
      version: Number(match[1]),
      name: file,
      sql: readFileSync(new URL(file, dir), 'utf8'),
    });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) {
      throw new Error(
        `two migrations share version ${out[i]!.version}: ${out[i - 1]!.name}, ${out[i]!.name}`,
      );
    }
  }
  return out;
}
