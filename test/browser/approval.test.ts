/**
 * A workflow that waits for an approval, in the web UI: it shows what it waits for, and the
 * send-event form (prefilled from that) wakes it.
 */
import { expect, test } from 'vitest';
import { APPROVAL_EVENT } from './fixtures/app.js';
import { screenshot } from './support/browser.js';
import { browserSession } from './support/session.js';
import { PROGRESS_MS, openDefinition, trigger, waitForStatus } from './support/ui.js';

const session = browserSession();

test('a waiting workflow is approved through the send-event form', async () => {
  await openDefinition(session.page, 'approval', { graph: false });
  const runId = await trigger(session.page, { requestId: 'req-7' });
  await waitForStatus(session.page, 'run-status', 'waiting');
  const waiting = session.page.getByTestId('waiting-for');
  await waiting.waitFor({ timeout: PROGRESS_MS });
  await expect.poll(() => waiting.textContent()).toContain(APPROVAL_EVENT);
  await expect.poll(() => waiting.textContent()).toContain('req-7');
  await session.page.getByTestId('journal').waitFor();
  await session.page.getByTestId('journal-entry-prepare').waitFor();
  // The open event wait reads as the run waiting, not as something running.
  await waitForStatus(session.page, 'journal-entry-approval', 'waiting');
  await screenshot(session.page, 'workflow-waiting');

  const form = session.page.getByTestId('send-event-form');
  await form.waitFor();
  // Prefilled from what the run waits for.
  expect(await session.page.getByTestId('event-type').inputValue()).toBe(APPROVAL_EVENT);
  expect(await session.page.getByTestId('event-key').inputValue()).toBe('req-7');
  await session.page.getByTestId('event-payload').fill('{"approved": true, "by": "grace"}');
  await session.page.getByTestId('send-event-submit').click();

  await waitForStatus(session.page, 'run-status', 'succeeded');
  await session.page
    .getByTestId('waiting-for')
    .waitFor({ state: 'detached', timeout: PROGRESS_MS });
  await screenshot(session.page, 'workflow-succeeded');
  const { run } = await session.app.api.run(runId);
  expect(run.status).toBe('succeeded');
  expect(run.waitingFor).toBeNull();
});
