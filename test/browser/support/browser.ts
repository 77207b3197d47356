/**
 * Chromium for the browser suites: Debian's package (`/usr/bin/chromium`, or `WEFT_CHROMIUM`)
 * driven by playwright-core, which ships no browser of its own. Pages are 1280×800; screenshots
 * go to `artifacts/screenshots/<name>.png`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterEach } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const SCREENSHOTS = join(ROOT, 'artifacts/screenshots');

export const VIEWPORT = { width: 1280, height: 800 } as const;

export type Theme = 'light' | 'dark';

/** Where Chromium is: `WEFT_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
export function chromiumPath(): string {
  return process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';
}

export function hasChromium(): boolean {
  return existsSync(chromiumPath());
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}: install it (apt-get install chromium) or point WEFT_CHROMIUM at a Chromium binary`,
    );
  }
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** A fresh context (its own storage, so the theme starts from `theme`) and page on `baseURL`. */
export async function openPage(
  browser: Browser,
  baseURL: string,
  theme: Theme = 'light',
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: VIEWPORT, colorScheme: theme });
  const page = await context.newPage();
  watchProblems(page);
  return { context, page };
}

/** What went wrong in each page (script errors, failed requests), for a failed test's report. */
const problems = new WeakMap<Page, string[]>();

function watchProblems(page: Page): void {
  const list: string[] = [];
  problems.set(page, list);
  const note = (line: string) => list.push(`${new Date().toISOString()} ${line}`);
  page.on('pageerror', (error) => note(`page error: ${error.stack ?? error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') note(`console error: ${message.text()}`);
  });
  page.on('requestfailed', (request) =>
    note(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) note(`HTTP ${response.status()}: ${response.url()}`);
  });
}

/** Saves a screenshot of the viewport as `artifacts/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  // Transitions stopped: a theme switch is captured done, not halfway.
  await page.screenshot({ path, animations: 'disabled' });
  return path;
}

/** The theme the page shows (`data-theme` on `<html>`). */
export async function currentTheme(page: Page): Promise<string | null> {
  return page.locator('html').getAttribute('data-theme');
}

/** Switches the page to `theme` with the UI's own toggle, and waits until `<html>` says so. */
export async function setTheme(page: Page, theme: Theme): Promise<void> {
  if ((await currentTheme(page)) === theme) return;
  await page.getByTestId('theme-toggle').click();
  await page.locator(`html[data-theme="${theme}"]`).waitFor({ state: 'attached' });
}

/**
 * Screenshots of the page in both themes (`<name>-light.png`, `<name>-dark.png`), through the
 * theme toggle; leaves the page in the theme it had.
 */
export async function screenshotBothThemes(page: Page, name: string): Promise<void> {
  const initial = (await currentTheme(page)) === 'dark' ? 'dark' : 'light';
  const other: Theme = initial === 'light' ? 'dark' : 'light';
  await screenshot(page, `${name}-${initial}`);
  await setTheme(page, other);
  await screenshot(page, `${name}-${other}`);
  await setTheme(page, initial);
}

/**
 * After each failed test of the file, a screenshot of the page as it was
 * (`artifacts/screenshots/failed-<test>.png`) and what went wrong in it (`.txt`, also on
 * stderr: script errors, failed requests), to see what the test waited for in vain.
 */
export function screenshotOnFailure(page: () => Page | undefined): void {
  afterEach(async (context) => {
    const current = page();
    if (context.task.result?.state !== 'fail' || !current) return;
    const name = context.task.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 80);
    await screenshot(current, `failed-${name}`).catch(() => undefined);
    const seen = problems.get(current) ?? [];
    const report = [`url: ${current.url()}`, ...seen].join('\n');
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(join(SCREENSHOTS, `failed-${name}.txt`), `${report}\n`);
    process.stderr.write(`browser: ${context.task.name}:\n${report}\n`);
  });
}
