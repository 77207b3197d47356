/**
 * Partitions and backfills through the web UI: the grid of a daily partitioned pipeline, a range
 * chosen with clicks and backfilled two at a time until its cells are green; a longer backfill
 * whose runs wait on a gate (one of them held by the pipeline's max active runs), paused,
 * resumed and cancelled from its page; a cell following its partition's new run live; the
 * backfills list; the sensors list on the schedules page.
 */
import type { Page } from 'playwright-core';
import { expect, test } from 'vitest';
import { SALES_GATE } from './fixtures/app.js';
import { screenshot, screenshotBothThemes } from './support/browser.js';
import { browserSession } from './support/session.js';
import { PROGRESS_MS, documentIsMarked, markDocument, withAttrs } from './support/ui.js';

const session = browserSession({ beforeStop: (app) => app.openGate(SALES_GATE) });

const PIPELINE = 'daily_sales';

const backfillOf = (id: string) => session.app.api.backfill(id);

/** The id of the backfill page the browser is on, once it is on one. */
async function waitForBackfillPage(page: Page, previous?: string): Promise<string> {
  await page.waitForURL(
    (url) => {
      const match = /^\/backfills\/([^/]+)$/.exec(url.pathname);
      return match !== null && match[1] !== previous;
    },
    { timeout: PROGRESS_MS },
  );
  return decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);
}

async function openPartitions(page: Page): Promise<void> {
  await page.goto('/catalog');
  await page.getByTestId(`catalog-item-${PIPELINE}`).click();
  await page.waitForURL(`**/catalog/${PIPELINE}`);
  await page.getByTestId('partition-grid').waitFor({ timeout: PROGRESS_MS });
}

let keys: string[];

test('a partitioned pipeline shows its partitions, all missing, in a grid', async () => {
  const { page } = session;
  const listed = await session.app.api.partitions(PIPELINE, { limit: 100 });
  keys = listed.partitions.map((p) => p.key);
  expect(listed.total).toBe(10);
  expect(keys).toHaveLength(10);

  await openPartitions(page);
  await withAttrs(page, 'partition-count-missing', { 'data-count': '10' }).waitFor();
  expect(await page.getByTestId('partition-counts').getAttribute('data-total')).toBe('10');
  expect(await page.locator('[data-testid^="partition-cell-"]').count()).toBe(10);
  expect(
    await page.locator('[data-testid^="partition-cell-"][data-status="missing"]').count(),
  ).toBe(10);
  expect(await page.getByTestId('partition-description').textContent()).toContain('daily from');

  // Hovering a cell names its key and status.
  await page.getByTestId(`partition-cell-${keys[4]}`).hover();
  const tooltip = page.getByTestId('partition-tooltip');
  await tooltip.waitFor();
  expect(await tooltip.textContent()).toContain(keys[4]);
  expect(await tooltip.textContent()).toContain('missing');
  await screenshotBothThemes(page, 'partitions-grid');

  // The trigger form offers the partition param's keys.
  await page.getByTestId('trigger-button').click();
  const day = page.getByTestId('field-day');
  await day.waitFor();
  await expect.poll(() => day.getAttribute('list')).toBe('field-options-day');
  expect(await page.locator('#field-options-day option').count()).toBe(10);
  await page.keyboard.press('Escape');
  await page.getByTestId('trigger-form').waitFor({ state: 'detached' });
});

let firstBackfill: string;

test('a range chosen with a click and a shift-click is backfilled two at a time', async () => {
  const { page } = session;
  const range = keys.slice(0, 3);
  await page.getByTestId(`partition-cell-${range[0]}`).click();
  await page.getByTestId(`partition-cell-${range[2]}`).click({ modifiers: ['Shift'] });
  await withAttrs(page, 'partition-selection', { 'data-count': '3' }).waitFor();
  for (const key of range) {
    await withAttrs(page, `partition-cell-${key}`, { 'data-selected': 'true' }).waitFor();
  }
  expect(await page.getByTestId('partition-from').inputValue()).toBe(range[0]);
  expect(await page.getByTestId('partition-to').inputValue()).toBe(range[2]);

  await page.getByTestId('backfill-button').click();
  const form = page.getByTestId('backfill-form');
  await form.waitFor();
  expect(await page.getByTestId('backfill-count').getAttribute('data-count')).toBe('3');
  // The partition param is the backfill's to set: the form asks only for the others.
  expect(await page.getByTestId('field-day').count()).toBe(0);
  await page.getByTestId('field-hold').waitFor();
  await page.getByTestId('backfill-field-max-concurrent').fill('2');
  await screenshot(page, 'backfill-form');
  await page.getByTestId('backfill-submit').click();
  firstBackfill = await waitForBackfillPage(page);

  const { backfill } = await backfillOf(firstBackfill);
  expect(backfill).toMatchObject({
    target: PIPELINE,
    partitions: range,
    maxConcurrent: 2,
    params: { hold: false },
  });

  await withAttrs(page, 'backfill-progress', { 'data-succeeded': '3' }).waitFor({
    timeout: PROGRESS_MS,
  });
  await withAttrs(page, 'backfill-status', { 'data-status': 'succeeded' }).waitFor({
    timeout: PROGRESS_MS,
  });
  expect(await page.getByTestId('backfill-progress').getAttribute('data-total')).toBe('3');
  for (const key of range) {
    await withAttrs(page, `partition-cell-${key}`, { 'data-status': 'succeeded' }).waitFor();
  }
  // Finished: nothing left to pause, resume or cancel.
  expect(await page.getByTestId('backfill-pause').count()).toBe(0);
  expect(await page.getByTestId('backfill-cancel').count()).toBe(0);
  await screenshotBothThemes(page, 'backfill-succeeded');

  // A cell with a run opens it; the run shows its partition and links back to the backfill.
  await page.getByTestId(`partition-cell-${range[1]}`).click();
  await page.waitForURL(/\/runs\/run_/, { timeout: PROGRESS_MS });
  await expect.poll(() => page.getByTestId('run-partition').textContent()).toBe(range[1]);
  await page.getByTestId('run-backfill').click();
  await waitForBackfillPage(page);

  // Back on the pipeline, its grid has the three cells green and seven missing.
  await openPartitions(page);
  for (const key of range) {
    await withAttrs(page, `partition-cell-${key}`, { 'data-status': 'succeeded' }).waitFor();
  }
  await withAttrs(page, 'partition-count-missing', { 'data-count': '7' }).waitFor();
  await withAttrs(page, 'partition-count-succeeded', { 'data-count': '3' }).waitFor();
  await screenshot(page, 'partitions-grid-after-backfill');
});

test('a longer backfill holds runs past max active runs, and pauses, resumes and cancels', async () => {
  const { page } = session;
  const rest = keys.slice(3);
  await page.getByTestId('partition-from').fill(rest[0]!);
  await page.getByTestId('partition-to').fill(rest[rest.length - 1]!);
  await withAttrs(page, 'partition-selection', { 'data-count': String(rest.length) }).waitFor();
  await page.getByTestId('backfill-button').click();
  await page.getByTestId('backfill-form').waitFor();
  // Its runs wait on the gate; three at once, of which the pipeline lets two be active.
  await page.getByTestId('field-hold').check();
  await page.getByTestId('backfill-field-max-concurrent').fill('3');
  await page.getByTestId('backfill-submit').click();
  const id = await waitForBackfillPage(page, firstBackfill);
  await withAttrs(page, 'backfill-status', { 'data-status': 'running' }).waitFor();
  await withAttrs(page, 'backfill-launched', { 'data-launched': '3' }).waitFor({
    timeout: PROGRESS_MS,
  });
  await withAttrs(page, 'backfill-progress', { 'data-running': '2' }).waitFor({
    timeout: PROGRESS_MS,
  });
  await screenshotBothThemes(page, 'backfill-running');

  // The third run waits held, and says so in the runs list and on its page.
  await page.getByTestId('nav-runs').click();
  await page.waitForURL('**/runs');
  const held = page.locator('[data-testid^="run-row-"][data-held="true"]');
  await held.first().waitFor({ timeout: PROGRESS_MS });
  expect(await held.count()).toBe(1);
  expect(await held.first().textContent()).toContain('queued (held)');
  expect(await held.first().getByTestId('run-partition').textContent()).toBe(rest[2]);
  await screenshot(page, 'runs-held');
  await held.first().click();
  await page.waitForURL(/\/runs\/run_/);
  const status = page.getByTestId('run-status');
  await expect.poll(() => status.textContent()).toContain('queued (held: waiting for a slot)');
  expect(await page.getByTestId('run-partition').textContent()).toBe(rest[2]);
  await page.getByTestId('run-backfill').click();
  await waitForBackfillPage(page, firstBackfill);

  await page.getByTestId('backfill-pause').click();
  await withAttrs(page, 'backfill-status', { 'data-status': 'paused' }).waitFor({
    timeout: PROGRESS_MS,
  });
  expect((await backfillOf(id)).backfill.status).toBe('paused');
  await screenshot(page, 'backfill-paused');

  await page.getByTestId('backfill-resume').click();
  await withAttrs(page, 'backfill-status', { 'data-status': 'running' }).waitFor({
    timeout: PROGRESS_MS,
  });
  await page.getByTestId('backfill-pause').waitFor();
  expect((await backfillOf(id)).backfill.status).toBe('running');

  // Cancelling asks first, then cancels the backfill and its unfinished runs.
  await page.getByTestId('backfill-cancel').click();
  await page.getByTestId('confirm-dialog').waitFor();
  await page.getByTestId('confirm-accept').click();
  await withAttrs(page, 'backfill-status', { 'data-status': 'cancelled' }).waitFor({
    timeout: PROGRESS_MS,
  });
  await expect
    .poll(
      async () => (await backfillOf(id)).partitions.filter((p) => p.status === 'cancelled').length,
      { timeout: PROGRESS_MS, interval: 200 },
    )
    .toBe(3);
  expect(await page.getByTestId('backfill-resume').count()).toBe(0);
});

test("a partition's cell follows its new run live", async () => {
  const { page } = session;
  const key = keys[3]!;
  await openPartitions(page);
  await withAttrs(page, `partition-cell-${key}`, { 'data-status': 'cancelled' }).waitFor();
  await markDocument(page);
  const { run } = await session.app.api.trigger({ definition: PIPELINE, params: { day: key } });
  expect(run.partition).toBe(key);
  await withAttrs(page, `partition-cell-${key}`, { 'data-status': 'succeeded' }).waitFor({
    timeout: PROGRESS_MS,
  });
  expect(await documentIsMarked(page)).toBe(true);
  await withAttrs(page, 'partition-count-succeeded', { 'data-count': '4' }).waitFor();
  await withAttrs(page, 'partition-count-cancelled', { 'data-count': '2' }).waitFor();
});

test('the backfills page lists both, with their status and progress', async () => {
  const { page } = session;
  await page.getByTestId('nav-backfills').click();
  await page.waitForURL('**/backfills');
  const { backfills } = await session.app.api.backfills();
  expect(backfills.map((b) => b.status).sort()).toEqual(['cancelled', 'succeeded']);
  for (const b of backfills) {
    await withAttrs(page, `backfill-row-${b.id}`, { 'data-status': b.status }).waitFor();
  }
  await withAttrs(page, `backfill-progress-${firstBackfill}`, {
    'data-succeeded': '3',
    'data-total': '3',
  }).waitFor();
  await screenshotBothThemes(page, 'backfills');
  await page.getByTestId(`backfill-row-${firstBackfill}`).click();
  expect(await waitForBackfillPage(page)).toBe(firstBackfill);
});

test('the schedules page lists the sensors, paused and resumed in place', async () => {
  const { page } = session;
  const name = 'sales-watch';
  await page.getByTestId('nav-schedules').click();
  await page.waitForURL('**/schedules');
  const row = withAttrs(page, `sensor-row-${name}`, { 'data-paused': 'false' });
  await row.waitFor({ timeout: PROGRESS_MS });
  expect(await page.getByTestId(`sensor-interval-${name}`).textContent()).toBe('1h');
  await page.getByTestId(`sensor-pause-${name}`).click();
  await withAttrs(page, `sensor-row-${name}`, { 'data-paused': 'true' }).waitFor();
  const { sensors } = await session.app.api.sensors();
  expect(sensors.find((s) => s.name === name)?.paused).toBe(true);
  await screenshotBothThemes(page, 'sensors');
  await page.getByTestId(`sensor-resume-${name}`).click();
  await withAttrs(page, `sensor-row-${name}`, { 'data-paused': 'false' }).waitFor();
});
