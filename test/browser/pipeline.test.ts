/**
 * A pipeline through the web UI: the catalog and a definition's graph and node source, the
 * trigger form (a refused value, then a good one), the run going green live, a node's logs
 * arriving while it runs, and a change the stream sends before the page's first read is in.
 */
import { describe, expect, test } from 'vitest';
import { screenshot, screenshotBothThemes } from './support/browser.js';
import {
  PROGRESS_MS,
  documentIsMarked,
  markDocument,
  openDefinition,
  setField,
  waitForGraph,
  waitForRunPage,
  waitForStatus,
} from './support/ui.js';
import { browserSession } from './support/session.js';

const NODES = ['outline', 'words', 'stats', 'render', 'publish'];

const session = browserSession();

describe('a pipeline in the web UI', () => {
  test('the catalog lists the definitions and opens one on its graph', async () => {
    await session.page.goto('/');
    for (const name of ['report', 'fragile', 'approval']) {
      await session.page.getByTestId(`catalog-item-${name}`).waitFor();
    }
    await screenshotBothThemes(session.page, 'catalog');

    await session.page.getByTestId('catalog-item-report').click();
    await session.page.waitForURL('**/catalog/report');
    await waitForGraph(session.page);
    for (const node of NODES) await session.page.getByTestId(`graph-node-${node}`).waitFor();
    await screenshot(session.page, 'definition-graph');
  });

  test('clicking a node shows its source', async () => {
    await openDefinition(session.page, 'report');
    await session.page.getByTestId('graph-node-render').click();
    const source = session.page.getByTestId('node-source');
    await source.waitFor();
    await expect.poll(() => source.textContent()).toContain('gatesDir');
    await screenshot(session.page, 'definition-node-source');
  });

  let runId: string;

  test('the trigger form refuses a bad value, then starts a run', async () => {
    await openDefinition(session.page, 'report');
    await session.page.getByTestId('trigger-button').click();
    await session.page.getByTestId('trigger-form').waitFor();
    // `sections` has a default; the form shows it and it can stay.
    await setField(session.page, 'title', 'ab');
    await setField(session.page, 'format', 'markdown');
    await session.page.getByTestId('trigger-submit').click();
    const error = session.page.getByTestId('field-error-title');
    await error.waitFor();
    await screenshot(session.page, 'trigger-form');
    expect((await error.textContent())?.trim()).not.toBe('');
    expect(new URL(session.page.url()).pathname).toBe('/catalog/report');
    expect((await session.app.api.runs()).runs).toHaveLength(0);

    await setField(session.page, 'title', 'Quarterly');
    await session.page.getByTestId('trigger-submit').click();
    runId = await waitForRunPage(session.page);
    const { run } = await session.app.api.run(runId);
    expect(run.definition).toBe('report');
    expect(run.input).toMatchObject({ title: 'Quarterly', format: 'markdown', sections: 3 });
  });

  test('the run shows its progress live, and a running node its logs as they come', async () => {
    await waitForGraph(session.page);
    await markDocument(session.page);
    // `render` runs until the test opens its gate, logging a line every 150 ms.
    await waitForStatus(session.page, 'graph-node-render', 'running');
    await waitForStatus(session.page, 'graph-node-outline', 'succeeded');
    await waitForStatus(session.page, 'run-status', 'running');
    await session.page.getByTestId('timeline').waitFor();
    await screenshotBothThemes(session.page, 'run-detail-running');

    await session.page.getByTestId('graph-node-render').click();
    const logs = session.page.getByTestId('step-logs');
    await logs.waitFor();
    const lines = logs.getByTestId('log-line');
    await lines.first().waitFor({ timeout: PROGRESS_MS });
    expect(await lines.first().textContent()).toContain('rendering Quarterly: line 1');
    const seen = await lines.count();
    // New lines arrive while the node runs, without reloading.
    await expect
      .poll(() => lines.count(), { timeout: PROGRESS_MS, interval: 100 })
      .toBeGreaterThan(seen + 2);
    expect(await documentIsMarked(session.page)).toBe(true);

    session.app.openGate('Quarterly');
    for (const node of NODES) await waitForStatus(session.page, `graph-node-${node}`, 'succeeded');
    await waitForStatus(session.page, 'run-status', 'succeeded');
    await expect
      .poll(() => logs.textContent(), { timeout: PROGRESS_MS })
      .toContain('rendered 3 sections as markdown');
    expect(await documentIsMarked(session.page)).toBe(true);
    await screenshotBothThemes(session.page, 'run-detail-succeeded');
    expect((await session.app.api.run(runId)).run.status).toBe('succeeded');
  });

  test('a finished step shows its output', async () => {
    await session.page.getByTestId('graph-node-publish').click();
    const output = session.page.getByTestId('step-output');
    await output.waitFor();
    await expect.poll(() => output.textContent()).toContain('words');
  });
  test('a change the stream sends before the run is first read is shown', async () => {
    const { page, app } = session;
    const { run } = await app.api.trigger({
      definition: 'report',
      params: { title: 'Early bird', format: 'markdown' },
    });
    const renderStatus = async () =>
      (await app.api.run(run.id)).steps.find((s) => s.key === 'render')?.status;
    await expect.poll(renderStatus, { timeout: PROGRESS_MS }).toBe('running');
    // The page's first read of the run is made now (render running) and answered only after
    // the run has finished and the stream has sent the finished run.
    let fetched!: () => void;
    const read = new Promise<void>((resolve) => (fetched = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    await page.route(
      (url) => url.pathname === `/api/runs/${run.id}`,
      async (route) => {
        const response = await route.fetch();
        fetched();
        await answered;
        await route.fulfill({ response });
      },
      { times: 1 },
    );
    const streaming = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/stream');
    await page.goto(`/runs/${run.id}`);
    await read;
    app.openGate('Early bird');
    await expect
      .poll(async () => (await app.api.run(run.id)).run.status, { timeout: PROGRESS_MS })
      .toBe('succeeded');
    await streaming;
    // The stream reads the run as it starts (every 250 ms): a moment is enough for it to send.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    answer();
    await waitForStatus(page, 'graph-node-render', 'succeeded');
    await waitForStatus(page, 'run-status', 'succeeded');
  });
});
