/** A serialized error: its name and message first, then its code, cause chain and stack. */
import type { SerializedError } from '../../../src/client/index.js';
import { CodeBlock } from './CodeBlock.js';

export function ErrorBlock({ error, testId }: { error: SerializedError; testId?: string }) {
  const causes: SerializedError[] = [];
  for (let c = error.cause; c && causes.length < 10; c = c.cause) causes.push(c);
  return (
    <div className="error-block" data-testid={testId} role="alert">
      <div className="error-head">
        <span className="error-name">{error.name}</span>
        {error.code && <span className="tag">{error.code}</span>}
        {error.retryable === false && <span className="tag">not retryable</span>}
      </div>
      <div className="error-message">{error.message}</div>
      {causes.map((c, i) => (
        <div key={i} className="error-cause">
          caused by <strong>{c.name}</strong>: {c.message}
        </div>
      ))}
      {error.stack && (
        <details className="error-stack">
          <summary>Stack trace</summary>
          <CodeBlock code={error.stack} maxHeight={260} />
        </details>
      )}
    </div>
  );
}
