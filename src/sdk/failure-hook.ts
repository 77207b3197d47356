/**
 * Failure notifications of one pipeline or workflow: when a run of it fails, a summary of the
 * run is POSTed as JSON to a webhook.
 *
 * ```ts
 * export const alertDaily = onFailure(daily, { webhook: 'https://hooks.example.com/weft' });
 * ```
 *
 * Registered with the target by the workers that load the file; the elected scheduler sends
 * the notifications (see `engine/failure-notifications.ts`). `weft server --on-failure <url>`
 * sends those of every definition.
 */
import { ConfigError } from '../core/errors.js';
import { brand, hasBrand } from './brand.js';
import type { AnyPipeline } from './pipeline.js';
import type { AnyWorkflow } from './workflow.js';

const FAILURE_HOOK = Symbol.for('weft.failure-hook');

export interface FailureHook {
  readonly kind: 'failure-hook';
  readonly target: AnyPipeline | AnyWorkflow;
  /** Where the run summary is POSTed. */
  readonly webhook: string;
}

export function isFailureHook(value: unknown): value is FailureHook {
  return hasBrand(value, FAILURE_HOOK);
}

/** Checks a webhook URL: http or https, or a ConfigError naming it. */
export function checkWebhook(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      'invalid_webhook',
      `${what}: ${JSON.stringify(url)} is not a URL; give an http(s) URL such as https://hooks.example.com/weft`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError('invalid_webhook', `${what}: ${url} must be an http:// or https:// URL`);
  }
  return parsed.toString();
}

/** POSTs a summary of each failed run of `target` to `webhook`; export it from the file. */
export function onFailure(
  target: AnyPipeline | AnyWorkflow,
  options: { webhook: string },
): FailureHook {
  const webhook = checkWebhook(options.webhook, `onFailure(${target.name})`);
  return brand({ kind: 'failure-hook' as const, target, webhook }, FAILURE_HOOK);
}
