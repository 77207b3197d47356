/**
 * A JSON value as a collapsible tree. Objects and arrays open to `openDepth` levels; long
 * arrays and objects show their first entries and a "more" button, so a 10 000-row output
 * renders at once.
 */
import { useState } from 'react';

const PAGE = 100;
const LONG = 20;

export function JsonView({
  value,
  openDepth = 2,
  testId,
}: {
  value: unknown;
  openDepth?: number;
  testId?: string;
}) {
  return (
    <div className="json" data-testid={testId}>
      <div className="json-toolbar">
        <CopyButton text={() => JSON.stringify(value, null, 2)} />
      </div>
      <JsonNode value={value} depth={0} openDepth={openDepth} />
    </div>
  );
}

function CopyButton({ text }: { text: () => string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="link-button"
      onClick={() => {
        void navigator.clipboard?.writeText(text()).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1200);
        });
      }}
    >
      {copied ? 'copied' : 'copy'}
    </button>
  );
}

function Primitive({ value }: { value: unknown }) {
  if (value === null) return <span className="json-null">null</span>;
  switch (typeof value) {
    case 'string':
      return <span className="json-string">{JSON.stringify(value)}</span>;
    case 'number':
    case 'bigint':
      return <span className="json-number">{String(value)}</span>;
    case 'boolean':
      return <span className="json-boolean">{String(value)}</span>;
    case 'undefined':
      return <span className="json-null">undefined</span>;
    default:
      // Functions and symbols: JSON from the API holds neither, but show something readable.
      return <span>{typeof value === 'symbol' ? value.toString() : typeof value}</span>;
  }
}

function JsonNode({
  value,
  depth,
  openDepth,
  name,
  last = true,
}: {
  value: unknown;
  depth: number;
  openDepth: number;
  name?: string;
  last?: boolean;
}) {
  const isArray = Array.isArray(value);
  const isObject = value !== null && typeof value === 'object';
  const [open, setOpen] = useState(depth < openDepth);
  const [shown, setShown] = useState(PAGE);
  const label = name !== undefined && <span className="json-key">{JSON.stringify(name)}: </span>;
  const comma = last ? '' : ',';

  if (!isObject) {
    return (
      <div className="json-line">
        {label}
        <Primitive value={value} />
        {comma}
      </div>
    );
  }
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const [openBracket, closeBracket] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    return (
      <div className="json-line">
        {label}
        {openBracket}
        {closeBracket}
        {comma}
      </div>
    );
  }
  const summary = isArray ? `${entries.length} items` : `${entries.length} keys`;
  // The entries of a long list stay closed: 300 open records bury what the reader looks for.
  const childDepth = entries.length > LONG ? Math.min(openDepth, depth + 1) : openDepth;
  return (
    <div className="json-block">
      <div className="json-line">
        <button
          type="button"
          className="json-toggle"
          aria-expanded={open}
          onClick={() => setOpen(!open)}
        >
          {open ? '▾' : '▸'}
        </button>
        {label}
        {openBracket}
        {!open && (
          <>
            <button type="button" className="json-summary" onClick={() => setOpen(true)}>
              {summary}
            </button>
            {closeBracket}
            {comma}
          </>
        )}
      </div>
      {open && (
        <>
          <div className="json-children">
            {entries.slice(0, shown).map(([k, v], i) => (
              <JsonNode
                key={k}
                name={isArray ? undefined : k}
                value={v}
                depth={depth + 1}
                openDepth={childDepth}
                last={i === entries.length - 1}
              />
            ))}
            {entries.length > shown && (
              <button type="button" className="link-button" onClick={() => setShown(shown + PAGE)}>
                … {entries.length - shown} more
              </button>
            )}
          </div>
          <div className="json-line">
            {closeBracket}
            {comma}
          </div>
        </>
      )}
    </div>
  );
}
