/**
 * One app and one browser page for a test file: started before its tests, stopped after, with
 * a screenshot of the page when a test fails.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startApp, type App } from './app.js';
import { launchBrowser, openPage, screenshotOnFailure } from './browser.js';

export interface BrowserSession {
  readonly app: App;
  readonly page: Page;
}

/** `beforeStop` runs first on the way out (to let go of what the app still runs). */
export function browserSession(options: { beforeStop?: (app: App) => void } = {}): BrowserSession {
  let app: App | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
    ({ context, page } = await openPage(browser, app.url));
  });

  screenshotOnFailure(() => page);

  afterAll(async () => {
    if (app) options.beforeStop?.(app);
    await context?.close();
    await browser?.close();
    await app?.stop();
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the browser session has not started');
    return value;
  };
  return {
    get app() {
      return started(app);
    },
    get page() {
      return started(page);
    },
  };
}
