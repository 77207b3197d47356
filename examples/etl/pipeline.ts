/**
 * ETL over a real data set: the Palmer Archipelago penguins (344 birds, three species, three
 * islands; collected by Dr. Kristen Gorman and Palmer Station LTER, CC0), as shipped in the
 * `vega-datasets` npm package. Hamilton style: each function's parameter names what it needs.
 *
 * load (a task, with retries) → parse → clean (drop rows without measurements, repair the sex
 * field) → group by species → one step per species → aggregate → Markdown report.
 *
 * ```sh
 * npm run demo                                                    # durable, with live progress
 * npx weft run examples/etl/pipeline.ts --param out=report.md     # the same, by hand
 * ```
 * In-process, e.g. in a test: `await etl.run({ out: '/tmp/report.md', islands: ['Dream'] })`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { map, NonRetryableError, pipeline, task, type TaskContext } from 'weft';
import { z } from 'zod';

export const ISLANDS = ['Biscoe', 'Dream', 'Torgersen'] as const;

/**
 * The data file inside the installed package. `vega-datasets` exports only its entry module,
 * so the file is found next to it rather than through a deep import.
 */
export const PENGUINS_FILE = join(
  dirname(createRequire(import.meta.url).resolve('vega-datasets')),
  '..',
  'data',
  'penguins.json',
);

export const params = z.object({
  /** Where the Markdown report goes. */
  out: z.string().min(1).default('.weft/report.md'),
  /** Only these islands (default: all). */
  islands: z.array(z.enum(ISLANDS)).min(1).optional(),
  /** Another file of the same shape instead of the packaged one. */
  source: z.string().min(1).optional(),
});

/** A record as the file has it: measurements may be null, sex may be null or '.'. */
export interface RawPenguin {
  Species?: unknown;
  Island?: unknown;
  'Beak Length (mm)'?: unknown;
  'Beak Depth (mm)'?: unknown;
  'Flipper Length (mm)'?: unknown;
  'Body Mass (g)'?: unknown;
  Sex?: unknown;
}

export type Sex = 'female' | 'male' | 'unknown';

export interface Penguin {
  species: string;
  island: string;
  beakLengthMm: number;
  beakDepthMm: number;
  flipperLengthMm: number;
  bodyMassG: number;
  sex: Sex;
}

export interface Cleaned {
  rows: Penguin[];
  /** Rows dropped, with the reason, by their index in the file. */
  dropped: { index: number; reason: string }[];
  /** Rows kept after repairing a field (an unreadable sex, a number written as text). */
  repaired: number;
  /** Rows left out by the `islands` filter. */
  filteredOut: number;
}

export interface SpeciesGroup {
  species: string;
  rows: Penguin[];
}

export interface Measures {
  bodyMassG: number;
  flipperLengthMm: number;
  beakLengthMm: number;
  beakDepthMm: number;
}

export interface SpeciesStats {
  species: string;
  count: number;
  /** Birds per island, islands in alphabetical order. */
  islands: Record<string, number>;
  bySex: Record<Sex, number>;
  mean: Measures;
  /** Mean body mass per sex (only the sexes present). */
  massBySex: Partial<Record<Sex, number>>;
  heaviest: { island: string; sex: Sex; bodyMassG: number };
}

export interface Summary {
  records: number;
  kept: number;
  dropped: number;
  repaired: number;
  filteredOut: number;
  species: string[];
  heaviestSpecies: string;
}

const MEASURES: [keyof Measures, keyof RawPenguin][] = [
  ['beakLengthMm', 'Beak Length (mm)'],
  ['beakDepthMm', 'Beak Depth (mm)'],
  ['flipperLengthMm', 'Flipper Length (mm)'],
  ['bodyMassG', 'Body Mass (g)'],
];

/** Reads the file. Retried: a file on a network share can fail transiently. */
const load = task(
  'load-penguins',
  {
    retries: { retries: 3, initialDelay: '200ms' },
    timeout: '30s',
    description: 'Reads the penguins JSON file (the packaged copy unless `source` is given)',
  },
  async ({ source }: { source?: string | undefined }, { signal, log }: TaskContext) => {
    const path = source ?? PENGUINS_FILE;
    try {
      const text = await readFile(path, { encoding: 'utf8', signal });
      log.info(`read ${text.length} characters`, { path });
      return text;
    } catch (error) {
      // A missing file will not appear by retrying.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NonRetryableError(`no data file at ${path}; check the source param`, {
          cause: error,
        });
      }
      throw error;
    }
  },
);

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function mean(rows: readonly Penguin[], key: keyof Measures): number {
  return round(rows.reduce((s, r) => s + r[key], 0) / rows.length);
}

/** A measurement as a positive number: numbers as is, numeric text repaired, else null. */
function measurement(value: unknown): { value: number; repaired: boolean } | null {
  if (typeof value === 'number')
    return Number.isFinite(value) && value > 0 ? { value, repaired: false } : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) && n > 0 ? { value: n, repaired: true } : null;
  }
  return null;
}

function sexOf(value: unknown): { sex: Sex; repaired: boolean } {
  const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (text === 'male' || text === 'female') return { sex: text, repaired: false };
  return { sex: 'unknown', repaired: true };
}

export function computeStats(group: SpeciesGroup): SpeciesStats {
  const { species, rows } = group;
  const islands: Record<string, number> = {};
  for (const island of [...new Set(rows.map((r) => r.island))].sort()) {
    islands[island] = rows.filter((r) => r.island === island).length;
  }
  const bySex: Record<Sex, number> = { female: 0, male: 0, unknown: 0 };
  for (const r of rows) bySex[r.sex]++;
  const massBySex: Partial<Record<Sex, number>> = {};
  for (const sex of ['female', 'male', 'unknown'] as const) {
    const of = rows.filter((r) => r.sex === sex);
    if (of.length) massBySex[sex] = mean(of, 'bodyMassG');
  }
  const heaviest = rows.reduce((a, b) => (b.bodyMassG > a.bodyMassG ? b : a));
  return {
    species,
    count: rows.length,
    islands,
    bySex,
    mean: {
      bodyMassG: mean(rows, 'bodyMassG'),
      flipperLengthMm: mean(rows, 'flipperLengthMm'),
      beakLengthMm: mean(rows, 'beakLengthMm'),
      beakDepthMm: mean(rows, 'beakDepthMm'),
    },
    massBySex,
    heaviest: { island: heaviest.island, sex: heaviest.sex, bodyMassG: heaviest.bodyMassG },
  };
}

export function renderReport(
  summary: Summary,
  stats: readonly SpeciesStats[],
  source: string,
): string {
  const lines = [
    '# Palmer penguins report',
    '',
    `Source: \`${source}\`. Data: Palmer Station Antarctica LTER and Dr. Kristen Gorman (CC0),`,
    'as shipped in the vega-datasets package.',
    '',
    '## Cleaning',
    '',
    `- records read: ${summary.records}`,
    `- rows kept: ${summary.kept}`,
    `- rows dropped (no usable measurements): ${summary.dropped}`,
    `- rows repaired (sex unreadable, or a number written as text): ${summary.repaired}`,
    `- rows outside the islands asked for: ${summary.filteredOut}`,
    '',
    '## Species',
    '',
    '| species | birds | islands | body mass (g) | flipper (mm) | beak length (mm) | beak depth (mm) |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: |',
    ...stats.map(
      (s) =>
        `| ${s.species} | ${s.count} | ${Object.keys(s.islands).join(', ')} | ${s.mean.bodyMassG.toFixed(1)} | ${s.mean.flipperLengthMm.toFixed(1)} | ${s.mean.beakLengthMm.toFixed(1)} | ${s.mean.beakDepthMm.toFixed(1)} |`,
    ),
    '',
  ];
  for (const s of stats) {
    lines.push(
      `### ${s.species}`,
      '',
      `- islands: ${Object.entries(s.islands)
        .map(([island, n]) => `${island} (${n})`)
        .join(', ')}`,
      `- sex: ${s.bySex.female} female, ${s.bySex.male} male, ${s.bySex.unknown} unknown`,
      `- mean body mass by sex: ${Object.entries(s.massBySex)
        .map(([sex, g]) => `${sex} ${g} g`)
        .join(', ')}`,
      `- heaviest: ${s.heaviest.bodyMassG} g (${s.heaviest.sex}, ${s.heaviest.island})`,
      '',
    );
  }
  lines.push(`Heaviest species on average: **${summary.heaviestSpecies}**.`, '');
  return lines.join('\n');
}

export const etl = pipeline(
  'penguins-etl',
  {
    raw: load,

    /** Parses the text into records; anything but an array of objects is an error. */
    records: ({ raw }: { raw: string }): RawPenguin[] => {
      let data: unknown;
      try {
        data = JSON.parse(raw);
      } catch (error) {
        throw new NonRetryableError(`the data file is not JSON: ${(error as Error).message}`);
      }
      if (!Array.isArray(data)) throw new NonRetryableError('the data file is not a JSON array');
      const bad = data.findIndex((r) => typeof r !== 'object' || r === null || Array.isArray(r));
      if (bad !== -1) throw new NonRetryableError(`record ${bad} is not an object`);
      return data as RawPenguin[];
    },

    /** Drops rows without species, island or measurements; repairs what can be repaired. */
    cleaned: (
      { records, islands }: { records: RawPenguin[]; islands?: readonly string[] | undefined },
      { log }: TaskContext,
    ): Cleaned => {
      const out: Cleaned = { rows: [], dropped: [], repaired: 0, filteredOut: 0 };
      records.forEach((r, index) => {
        const species = typeof r.Species === 'string' ? r.Species.trim() : '';
        const island = typeof r.Island === 'string' ? r.Island.trim() : '';
        if (!species || !island) {
          out.dropped.push({ index, reason: 'no species or island' });
          return;
        }
        const measures: Partial<Measures> = {};
        let repaired = false;
        for (const [key, field] of MEASURES) {
          const m = measurement(r[field]);
          if (!m) break;
          measures[key] = m.value;
          repaired ||= m.repaired;
        }
        if (Object.keys(measures).length < MEASURES.length) {
          out.dropped.push({ index, reason: 'missing or invalid measurements' });
          return;
        }
        if (islands && !islands.includes(island)) {
          out.filteredOut++;
          return;
        }
        const sex = sexOf(r.Sex);
        if (repaired || sex.repaired) out.repaired++;
        out.rows.push({ species, island, ...(measures as Measures), sex: sex.sex });
      });
      log.info(
        `kept ${out.rows.length} of ${records.length} records: ${out.dropped.length} dropped, ${out.repaired} repaired, ${out.filteredOut} filtered out`,
      );
      return out;
    },

    /** One group per species, in alphabetical order. */
    groups: ({ cleaned }: { cleaned: Cleaned }): SpeciesGroup[] =>
      [...new Set(cleaned.rows.map((r) => r.species))]
        .sort()
        .map((species) => ({ species, rows: cleaned.rows.filter((r) => r.species === species) })),

    /** Fan-out: each species is its own step. */
    speciesStats: map(
      'groups',
      (group: SpeciesGroup, _deps: unknown, { log }: TaskContext) => {
        const stats = computeStats(group);
        log.info(`${group.species}: ${stats.count} birds, mean ${stats.mean.bodyMassG} g`);
        return stats;
      },
      { deps: [] },
    ),

    summary: ({
      records,
      cleaned,
      speciesStats,
    }: {
      records: RawPenguin[];
      cleaned: Cleaned;
      speciesStats: SpeciesStats[];
    }): Summary => {
      const heaviest = speciesStats.reduce<SpeciesStats | null>(
        (a, b) => (a === null || b.mean.bodyMassG > a.mean.bodyMassG ? b : a),
        null,
      );
      return {
        records: records.length,
        kept: cleaned.rows.length,
        dropped: cleaned.dropped.length,
        repaired: cleaned.repaired,
        filteredOut: cleaned.filteredOut,
        species: speciesStats.map((s) => s.species),
        heaviestSpecies: heaviest?.species ?? '(none)',
      };
    },

    /** Writes the Markdown report; returns where it went and how big it is. */
    report: async (
      {
        summary,
        speciesStats,
        out,
        source,
      }: {
        summary: Summary;
        speciesStats: SpeciesStats[];
        out: string;
        source?: string | undefined;
      },
      { log }: TaskContext,
    ) => {
      const path = resolve(out);
      const text = renderReport(
        summary,
        speciesStats,
        source ?? 'vega-datasets/data/penguins.json',
      );
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text, 'utf8');
      log.info(`wrote ${path}`);
      return { path, bytes: Buffer.byteLength(text) };
    },
  },
  {
    params,
    description: 'Palmer penguins: clean, summarize per species, write a Markdown report',
  },
);
