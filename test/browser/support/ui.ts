/**
 * Steps through the web UI by its `data-testid`s (the contract in docs: routes and test ids),
 * waiting on conditions, never on time.
 */
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** How long a condition that depends on a run's progress may take (a worker, a stream). */
export const PROGRESS_MS = 30_000;

/** The element with this test id and these attribute values, e.g. `{ 'data-status': 'failed' }`. */
export function withAttrs(page: Page, testId: string, attrs: Record<string, string>): Locator {
  const filters = Object.entries(attrs)
    .map(([name, value]) => `[${name}=${JSON.stringify(value)}]`)
    .join('');
  return page.locator(`[data-testid=${JSON.stringify(testId)}]${filters}`);
}

/** Waits until the element's attribute has `value` (the page is not reloaded meanwhile). */
export async function waitForAttr(
  page: Page,
  testId: string,
  attr: string,
  value: string,
  timeout = PROGRESS_MS,
): Promise<void> {
  await expect
    .poll(() => page.getByTestId(testId).first().getAttribute(attr), {
      timeout,
      interval: 100,
      message: `${testId} ${attr}`,
    })
    .toBe(value);
}

export function waitForStatus(page: Page, testId: string, status: string, timeout = PROGRESS_MS) {
  return waitForAttr(page, testId, 'data-status', status, timeout);
}

/** Waits for a graph to be laid out (`data-ready="true"` on `dag-graph`). */
export async function waitForGraph(page: Page): Promise<void> {
  await withAttrs(page, 'dag-graph', { 'data-ready': 'true' }).waitFor({ timeout: PROGRESS_MS });
}

/** Sets a trigger-form field: a `<select>` by its option, anything else by typing. */
export async function setField(page: Page, property: string, value: string): Promise<void> {
  const field = page.getByTestId(`field-${property}`);
  const tag = await field.evaluate((el: { tagName: string }) => el.tagName.toLowerCase());
  if (tag === 'select') await field.selectOption(value);
  else await field.fill(value);
}

/** The run id of the run detail page the browser is on. */
export function runIdOf(page: Page): string {
  const match = /\/runs\/(run_[0-9a-z]+)/.exec(new URL(page.url()).pathname);
  if (!match) throw new Error(`not on a run page: ${page.url()}`);
  return match[1]!;
}

/** Waits until the browser is on a run detail page other than `previous`; returns its run id. */
export async function waitForRunPage(page: Page, previous?: string): Promise<string> {
  await page.waitForURL(
    (url) => {
      const match = /^\/runs\/(run_[0-9a-z]+)$/.exec(url.pathname);
      return match !== null && match[1] !== previous;
    },
    { timeout: PROGRESS_MS },
  );
  return runIdOf(page);
}

/**
 * Marks the current document, so a test can tell later that what it saw changed in place
 * (live updates) rather than by a page load.
 */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate('window.__weftTestMark = true');
}

export async function documentIsMarked(page: Page): Promise<boolean> {
  return (await page.evaluate('window.__weftTestMark === true')) === true;
}

/**
 * Opens a definition's page from the catalog, as a user would, and waits for its graph (a
 * pipeline's; a workflow has no DAG, so `graph: false` waits for its trigger button instead).
 */
export async function openDefinition(
  page: Page,
  name: string,
  { graph = true }: { graph?: boolean } = {},
): Promise<void> {
  await page.goto('/catalog');
  await page.getByTestId(`catalog-item-${name}`).click();
  await page.waitForURL(`**/catalog/${name}`);
  if (graph) await waitForGraph(page);
  else await page.getByTestId('trigger-button').waitFor();
}

/** Fills and submits the trigger form of the definition page the browser is on. */
export async function trigger(
  page: Page,
  fields: Record<string, string>,
  previousRun?: string,
): Promise<string> {
  await page.getByTestId('trigger-button').click();
  await page.getByTestId('trigger-form').waitFor();
  for (const [name, value] of Object.entries(fields)) await setField(page, name, value);
  await page.getByTestId('trigger-submit').click();
  return waitForRunPage(page, previousRun);
}
