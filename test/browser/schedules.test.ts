/** The schedules page: a schedule declared in code, paused and resumed; one made through the API, deleted. */
import { expect, test } from 'vitest';
import { screenshot, screenshotBothThemes } from './support/browser.js';
import { browserSession } from './support/session.js';
import {
  PROGRESS_MS,
  documentIsMarked,
  markDocument,
  waitForGraph,
  withAttrs,
} from './support/ui.js';

const session = browserSession();

const NAME = 'yearly-report';

test('the schedules page shows a declared schedule, its description and next tick', async () => {
  const { page } = session;
  // A second schedule, made through the API, fires in July only (no run starts during the test).
  await session.app.api.createSchedule({
    name: 'adhoc',
    target: 'report',
    cron: '15 4 1 7 *',
    params: { title: 'Adhoc', format: 'text' },
    catchUp: 'all',
    overlap: 'cancel-previous',
  });
  await page.goto('/');
  await page.getByTestId('nav-schedules').click();
  await page.waitForURL('**/schedules');
  const row = withAttrs(page, `schedule-row-${NAME}`, { 'data-paused': 'false' });
  await row.waitFor({ timeout: PROGRESS_MS });

  const { schedule } = await session.app.api.schedule(NAME);
  expect(schedule.target).toBe('report');
  expect(schedule.nextTick).not.toBeNull();
  expect((await page.getByTestId(`schedule-description-${NAME}`).textContent())?.trim()).toBe(
    schedule.description,
  );
  const next = page.getByTestId(`schedule-next-${NAME}`);
  expect(await next.getAttribute('data-next')).toBe(String(schedule.nextTick));
  expect(await next.textContent()).toMatch(/in \d+ (day|hour|minute)s?/);
  // Declared in code: it can be paused, not deleted; the one made through the API can be.
  await withAttrs(page, 'schedule-row-adhoc', { 'data-paused': 'false' }).waitFor();
  expect(await page.getByTestId(`schedule-delete-${NAME}`).count()).toBe(0);
  await page.getByTestId('schedule-delete-adhoc').waitFor();
  await expect
    .poll(() => row.getByRole('link', { name: 'report' }).getAttribute('href'))
    .toBe('/catalog/report');
  await screenshotBothThemes(page, 'schedules');
});

test('pausing and resuming a schedule updates its row in place', async () => {
  const { page } = session;
  await markDocument(page);
  await page.getByTestId(`schedule-pause-${NAME}`).click();
  await withAttrs(page, `schedule-row-${NAME}`, { 'data-paused': 'true' }).waitFor({
    timeout: PROGRESS_MS,
  });
  await page.getByTestId(`schedule-resume-${NAME}`).waitFor();
  expect((await session.app.api.schedule(NAME)).schedule.paused).toBe(true);
  await screenshot(page, 'schedules-paused');

  await page.getByTestId(`schedule-resume-${NAME}`).click();
  await withAttrs(page, `schedule-row-${NAME}`, { 'data-paused': 'false' }).waitFor({
    timeout: PROGRESS_MS,
  });
  await page.getByTestId(`schedule-pause-${NAME}`).waitFor();
  const { schedule } = await session.app.api.schedule(NAME);
  expect(schedule.paused).toBe(false);
  expect(schedule.nextTick).not.toBeNull();
  expect(await documentIsMarked(page)).toBe(true);
});

test('a schedule made through the API can be deleted, after a confirmation', async () => {
  const { page } = session;
  await withAttrs(page, 'schedule-row-adhoc', { 'data-paused': 'false' }).waitFor();
  await page.getByTestId('schedule-delete-adhoc').click();
  await page.getByTestId('confirm-dialog').waitFor();
  await page.getByTestId('confirm-accept').click();
  await page.getByTestId('schedule-row-adhoc').waitFor({ state: 'detached', timeout: PROGRESS_MS });
  expect((await session.app.api.schedules()).schedules.map((s) => s.name)).toEqual([NAME]);
});

test('the definition page lists the schedules that start it', async () => {
  const { page } = session;
  await page.getByTestId(`schedule-runs-${NAME}`).click();
  await withAttrs(page, 'schedule-runs', { 'data-schedule': NAME }).waitFor();
  await page.getByTestId('state-empty').first().waitFor();
  await screenshot(page, 'schedules-runs');

  await page.goto('/catalog/report');
  await withAttrs(page, `definition-schedule-${NAME}`, { 'data-paused': 'false' }).waitFor({
    timeout: PROGRESS_MS,
  });
  await waitForGraph(page);
  await page.getByTestId('definition-schedules').scrollIntoViewIfNeeded();
  await screenshot(page, 'definition-schedules');
  await page.goto('/catalog/fragile');
  await page.getByTestId('trigger-button').waitFor();
  expect(await page.getByTestId('definition-schedules').count()).toBe(0);
});
