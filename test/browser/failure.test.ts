/**
 * A failing run in the web UI: the failed node is red and says why; once the cause is fixed,
 * retry starts a new run that recomputes the failed node and succeeds.
 */
import { expect, test } from 'vitest';
import { screenshotBothThemes } from './support/browser.js';
import { browserSession } from './support/session.js';
import {
  PROGRESS_MS,
  openDefinition,
  trigger,
  waitForGraph,
  waitForRunPage,
  waitForStatus,
} from './support/ui.js';

const session = browserSession();

test('a failed run shows its error, and retry after the fix succeeds', async () => {
  await openDefinition(session.page, 'fragile');
  const failedId = await trigger(session.page, { name: 'billing' });
  await waitForGraph(session.page);
  await waitForStatus(session.page, 'run-status', 'failed');
  await waitForStatus(session.page, 'graph-node-prepare', 'succeeded');
  await waitForStatus(session.page, 'graph-node-check', 'failed');
  await waitForStatus(session.page, 'graph-node-finish', 'skipped');

  // A click selects a node, even the one selected already (the page opens on the failed one).
  await session.page.getByTestId('graph-node-prepare').click();
  await session.page.getByTestId('step-output').waitFor();
  await session.page.getByTestId('graph-node-check').click();
  await session.page.getByTestId('graph-node-check').click();
  const error = session.page.getByTestId('step-error');
  await error.waitFor({ timeout: PROGRESS_MS });
  await expect.poll(() => error.textContent()).toContain('billing is broken');
  await screenshotBothThemes(session.page, 'run-detail-failed');

  session.app.fix('billing');
  await session.page.getByTestId('retry-button').click();
  const retryId = await waitForRunPage(session.page, failedId);
  await waitForGraph(session.page);
  await waitForStatus(session.page, 'run-status', 'succeeded');
  await waitForStatus(session.page, 'graph-node-check', 'succeeded');
  await waitForStatus(session.page, 'graph-node-finish', 'succeeded');

  // The retry is a run of its own; the failed run stays as it was.
  const [failed, retried] = await Promise.all([
    session.app.api.run(failedId),
    session.app.api.run(retryId),
  ]);
  expect(failed.run.status).toBe('failed');
  expect(retried.run.status).toBe('succeeded');
  expect(retried.run.definition).toBe('fragile');
});
