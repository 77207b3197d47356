import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, ManualClock, RunFailedError } from 'weft';
import { etl, PENGUINS_FILE, type RawPenguin } from '../../examples/etl/pipeline.js';
import { recorder } from '../support/run-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-etl-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples/etl over the real penguins data', () => {
  it('finds the data file inside the installed package', () => {
    expect(PENGUINS_FILE).toMatch(/node_modules[\\/]vega-datasets[\\/]data[\\/]penguins\.json$/);
    expect(existsSync(PENGUINS_FILE)).toBe(true);
  });

  it('cleans, fans out per species, and writes the report', async () => {
    const out = join(dir, 'nested', 'report.md');
    const rec = recorder();
    const result = await etl.run({ out }, { onEvent: rec.onEvent, clock: new ManualClock() });

    // The real file: 344 records, two with no measurements at all, nine whose sex is missing
    // or recorded as '.'.
    expect(result.summary).toEqual({
      records: 344,
      kept: 342,
      dropped: 2,
      repaired: 9,
      filteredOut: 0,
      species: ['Adelie', 'Chinstrap', 'Gentoo'],
      heaviestSpecies: 'Gentoo',
    });
    expect(result.cleaned.dropped.map((d) => d.reason)).toEqual([
      'missing or invalid measurements',
      'missing or invalid measurements',
    ]);
    const counts = Object.fromEntries(result.speciesStats.map((s) => [s.species, s.count]));
    expect(counts).toEqual({ Adelie: 151, Chinstrap: 68, Gentoo: 123 });
    const gentoo = result.speciesStats.find((s) => s.species === 'Gentoo')!;
    expect(gentoo.islands).toEqual({ Biscoe: 123 });
    expect(gentoo.mean.bodyMassG).toBeGreaterThan(4900);
    expect(gentoo.mean.bodyMassG).toBeLessThan(5200);
    const adelie = result.speciesStats.find((s) => s.species === 'Adelie')!;
    expect(Object.keys(adelie.islands)).toEqual(['Biscoe', 'Dream', 'Torgersen']);
    expect(adelie.bySex.female + adelie.bySex.male + adelie.bySex.unknown).toBe(151);

    // One step per species.
    const groupSteps = rec
      .steps()
      .filter((e) => e.node === 'speciesStats' && e.status === 'succeeded')
      .map((e) => e.step);
    expect(groupSteps.sort()).toEqual(['speciesStats[0]', 'speciesStats[1]', 'speciesStats[2]']);
    expect(
      rec
        .logs()
        .some((l) => l.step === 'speciesStats[2]' && l.message.startsWith('Gentoo: 123 birds')),
    ).toBe(true);

    // The report file.
    expect(result.report.path).toBe(out);
    const text = await readFile(out, 'utf8');
    expect(result.report.bytes).toBe(Buffer.byteLength(text));
    expect(text).toContain('# Palmer penguins report');
    for (const species of ['Adelie', 'Chinstrap', 'Gentoo'])
      expect(text).toContain(`### ${species}`);
    expect(text).toMatch(/\| Gentoo \| 123 \| Biscoe \| 5076\.0 \|/);
    expect(text).toContain('- rows dropped (no usable measurements): 2');
    expect(text).toContain('Heaviest species on average: **Gentoo**.');
  });

  it('filters by island, leaving out the species that live elsewhere', async () => {
    const out = join(dir, 'dream.md');
    const result = await etl.run({ out, islands: ['Dream'] });
    expect(result.summary.species).toEqual(['Adelie', 'Chinstrap']);
    expect(result.summary.kept).toBe(124);
    expect(result.summary.filteredOut).toBe(342 - 124);
    const text = await readFile(out, 'utf8');
    expect(text).toContain('### Chinstrap');
    expect(text).not.toContain('Gentoo');
  });

  it('rejects an unknown island at the boundary, naming the field', async () => {
    const attempt = etl.run({ out: join(dir, 'x.md'), islands: ['Atlantis' as 'Dream'] });
    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toThrow(/islands\.0/);
    expect(existsSync(join(dir, 'x.md'))).toBe(false);
  });

  it('computes the cleaned rows alone, without writing a report', async () => {
    const out = join(dir, 'not-written.md');
    const result = await etl.run({ out }, { outputs: ['cleaned'] });
    expect(result.cleaned.rows).toHaveLength(342);
    expect(existsSync(out)).toBe(false);
  });

  it('drops and repairs the bad rows of a dirty file, counting them', async () => {
    const good: RawPenguin = {
      Species: 'Adelie',
      Island: 'Dream',
      'Beak Length (mm)': 39.1,
      'Beak Depth (mm)': 18.7,
      'Flipper Length (mm)': 181,
      'Body Mass (g)': 3750,
      Sex: 'MALE',
    };
    const dirty: RawPenguin[] = [
      good,
      { ...good, 'Body Mass (g)': null }, // dropped
      { ...good, 'Flipper Length (mm)': -3 }, // dropped
      { ...good, Species: '' }, // dropped
      { ...good, 'Body Mass (g)': '4100' }, // repaired: number as text
      { ...good, Sex: '.' }, // repaired: unreadable sex
      { ...good, Species: 'Gentoo', Island: 'Biscoe', Sex: 'female' },
    ];
    const source = join(dir, 'dirty.json');
    await writeFile(source, JSON.stringify(dirty));
    const out = join(dir, 'dirty.md');
    const result = await etl.run({ out, source });
    expect(result.summary).toMatchObject({ records: 7, kept: 4, dropped: 3, repaired: 2 });
    expect(result.cleaned.dropped).toEqual([
      { index: 1, reason: 'missing or invalid measurements' },
      { index: 2, reason: 'missing or invalid measurements' },
      { index: 3, reason: 'no species or island' },
    ]);
    const adelie = result.speciesStats.find((s) => s.species === 'Adelie')!;
    expect(adelie.bySex).toEqual({ female: 0, male: 2, unknown: 1 });
    expect(adelie.heaviest.bodyMassG).toBe(4100);
    expect(await readFile(out, 'utf8')).toContain(`Source: \`${source}\``);
  });

  it('uses an override for the raw text, skipping the loader', async () => {
    const rec = recorder();
    const raw = JSON.stringify([
      {
        Species: 'Chinstrap',
        Island: 'Dream',
        'Beak Length (mm)': 46.5,
        'Beak Depth (mm)': 17.9,
        'Flipper Length (mm)': 192,
        'Body Mass (g)': 3500,
        Sex: 'FEMALE',
      },
    ]);
    const result = await etl.run(
      { out: join(dir, 'override.md') },
      { overrides: { raw }, outputs: ['summary'], onEvent: rec.onEvent },
    );
    expect(result.summary).toMatchObject({ records: 1, kept: 1, species: ['Chinstrap'] });
    expect(rec.statuses('raw')).toEqual([]);
  });

  it('fails at once, without retrying, when the source file does not exist', async () => {
    const rec = recorder();
    const clock = new ManualClock();
    const error = (await etl
      .run(
        { out: join(dir, 'never.md'), source: join(dir, 'missing.json') },
        { onEvent: rec.onEvent, clock },
      )
      .catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.failed).toEqual([
      expect.objectContaining({
        step: 'raw',
        error: expect.objectContaining({ name: 'NonRetryableError' }) as unknown,
      }),
    ]);
    expect(error.failed[0]?.error.message).toContain('check the source param');
    expect(rec.attempts('raw')).toBe(1);
    expect(rec.final()).toMatchObject({ records: 'skipped', report: 'skipped' });
  });

  it('fails the parse step on a file that is not JSON', async () => {
    const source = join(dir, 'broken.json');
    await writeFile(source, '{"Species": ');
    const error = (await etl
      .run({ out: join(dir, 'never.md'), source })
      .catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.failed.map((f) => f.step)).toEqual(['records']);
    expect(error.failed[0]?.error.message).toContain('the data file is not JSON');
  });
});
