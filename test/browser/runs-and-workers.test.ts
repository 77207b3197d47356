/** The runs table (listing, filters) and the workers page of the web UI. */
import type { Page } from 'playwright-core';
import { expect, test } from 'vitest';
import type { RunStatus } from '../../src/client/index.js';
import { screenshot, screenshotBothThemes } from './support/browser.js';
import { browserSession } from './support/session.js';
import { PROGRESS_MS, withAttrs } from './support/ui.js';

const session = browserSession({ beforeStop: (app) => app.openGate('held') });

/** Polls the API until the run has `status`. */
async function settle(id: string, status: RunStatus): Promise<void> {
  await expect
    .poll(async () => (await session.app.api.run(id)).run.status, {
      timeout: PROGRESS_MS,
      interval: 100,
    })
    .toBe(status);
}

test('the runs page lists runs and filters them by status and definition', async () => {
  session.app.openGate('done');
  const done = (
    await session.app.api.trigger({
      definition: 'report',
      params: { title: 'done', format: 'text' },
      tags: ['nightly'],
    })
  ).run.id;
  const broken = (
    await session.app.api.trigger({ definition: 'fragile', params: { name: 'broken' } })
  ).run.id;
  const held = (
    await session.app.api.trigger({
      definition: 'report',
      params: { title: 'held', format: 'html' },
    })
  ).run.id;
  await Promise.all([settle(done, 'succeeded'), settle(broken, 'failed'), settle(held, 'running')]);

  await session.page.goto('/');
  await session.page.getByTestId('nav-runs').click();
  await session.page.waitForURL('**/runs');
  for (const [id, status] of [
    [done, 'succeeded'],
    [broken, 'failed'],
    [held, 'running'],
  ] as const) {
    await withAttrs(session.page, `run-row-${id}`, { 'data-status': status }).waitFor({
      timeout: PROGRESS_MS,
    });
  }
  await screenshotBothThemes(session.page, 'runs');

  await session.page.getByTestId('runs-status-filter').selectOption('failed');
  await session.page.getByTestId(`run-row-${done}`).waitFor({ state: 'detached' });
  await session.page.getByTestId(`run-row-${held}`).waitFor({ state: 'detached' });
  await session.page.getByTestId(`run-row-${broken}`).waitFor();
  await screenshot(session.page, 'runs-filtered-failed');

  await session.page.getByTestId('runs-status-filter').selectOption('');
  await session.page.getByTestId('runs-definition-filter').selectOption('report');
  await session.page.getByTestId(`run-row-${broken}`).waitFor({ state: 'detached' });
  await session.page.getByTestId(`run-row-${done}`).waitFor();
  await session.page.getByTestId(`run-row-${held}`).waitFor();

  // The search box finds runs by tag.
  await session.page.getByTestId('runs-definition-filter').selectOption('');
  await session.page.getByTestId('runs-search').fill('nightly');
  await session.page.getByTestId(`run-row-${held}`).waitFor({ state: 'detached' });
  await session.page.getByTestId(`run-row-${broken}`).waitFor({ state: 'detached' });
  await session.page.getByTestId(`run-row-${done}`).waitFor();

  // Opening a row shows that run.
  await session.page.getByTestId(`run-row-${done}`).click();
  await session.page.waitForURL(`**/runs/${done}`);
  await waitForRunStatus(session.page, 'succeeded');
});

async function waitForRunStatus(page: Page, status: RunStatus): Promise<void> {
  await withAttrs(page, 'run-status', { 'data-status': status }).waitFor({
    timeout: PROGRESS_MS,
  });
}

test('the workers page shows the dev worker alive', async () => {
  await session.page.getByTestId('nav-workers').click();
  await session.page.waitForURL('**/workers');
  const { workers } = await session.app.api.workers();
  expect(workers.length).toBeGreaterThan(0);
  for (const worker of workers) {
    await withAttrs(session.page, `worker-row-${worker.id}`, { 'data-alive': 'true' }).waitFor({
      timeout: PROGRESS_MS,
    });
  }
  await screenshot(session.page, 'workers');
});
