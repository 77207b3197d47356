/**
 * The schedules page: a schedule declared in code, paused and resumed; one made through the API,
 * deleted; one made with the page's form, refused until its cron and params are right.
 */
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

test('the new schedule form shows what the server refuses, then adds the schedule', async () => {
  const { page } = session;
  const created = 'from-ui';
  await page.getByTestId('schedule-new').click();
  const form = page.getByTestId('schedule-form');
  await form.waitFor();
  // The target's options come from the registered definitions; its params start from defaults.
  await page.getByTestId('schedule-field-target').selectOption('report');
  expect(JSON.parse(await page.getByTestId('schedule-field-params').inputValue())).toEqual({
    sections: 3,
  });
  expect(await page.getByTestId('schedule-field-timezone').inputValue()).not.toBe('');
  await page.getByTestId('schedule-field-name').fill(created);
  await page.getByTestId('schedule-field-timezone').fill('Europe/Berlin');
  await page
    .getByTestId('schedule-field-params')
    .fill(JSON.stringify({ title: 'From UI', format: 'text' }));

  // An interval instead of a cron expression has its own field (and no time zone).
  await page.getByTestId('schedule-when-every').click();
  await page.getByTestId('schedule-field-every').waitFor();
  expect(await page.getByTestId('schedule-field-timezone').count()).toBe(0);
  await page.getByTestId('schedule-when-cron').click();
  await page.getByTestId('schedule-field-cron').waitFor();

  // A minute of 99: the server names the expression.
  await page.getByTestId('schedule-field-cron').fill('99 4 1 7 *');
  await page.getByTestId('schedule-submit').click();
  const error = page.getByTestId('schedule-error');
  await error.waitFor();
  expect(await error.textContent()).toContain('invalid_schedule');
  expect(await error.textContent()).toContain('cron "99 4 1 7 *"');

  // Params the target's schema refuses: each issue with its path.
  await page.getByTestId('schedule-field-cron').fill('15 4 1 7 *');
  await page.getByTestId('schedule-field-params').fill(JSON.stringify({ format: 'pdf' }));
  await page.getByTestId('schedule-submit').click();
  await expect.poll(() => error.textContent()).toContain('invalid_input');
  expect(await error.locator('li').allTextContents()).toEqual(
    expect.arrayContaining([
      expect.stringContaining('params.title'),
      expect.stringContaining('params.format'),
    ]),
  );
  await screenshot(page, 'schedule-form');

  await page
    .getByTestId('schedule-field-params')
    .fill(JSON.stringify({ title: 'From UI', format: 'text' }));
  await page.getByTestId('schedule-field-catch-up').selectOption('none');
  await page.getByTestId('schedule-field-overlap').selectOption('skip');
  await page.getByTestId('schedule-submit').click();
  await form.waitFor({ state: 'detached', timeout: PROGRESS_MS });
  await withAttrs(page, `schedule-row-${created}`, { 'data-paused': 'false' }).waitFor({
    timeout: PROGRESS_MS,
  });
  const { schedule } = await session.app.api.schedule(created);
  expect(schedule).toMatchObject({ target: 'report', source: 'api' });
  expect(schedule.spec).toMatchObject({
    cron: '15 4 1 7 *',
    timezone: 'Europe/Berlin',
    params: { title: 'From UI', format: 'text' },
    catchUp: 'none',
    overlap: 'skip',
  });
  await expect
    .poll(() => page.getByTestId(`schedule-next-${created}`).getAttribute('data-next'))
    .toBe(String(schedule.nextTick));

  // Gone again through the UI, so the tests after this one see the declared schedule alone.
  await page.getByTestId(`schedule-delete-${created}`).click();
  await page.getByTestId('confirm-accept').click();
  await page
    .getByTestId(`schedule-row-${created}`)
    .waitFor({ state: 'detached', timeout: PROGRESS_MS });
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
