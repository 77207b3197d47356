/** Source code or a stack trace: monospace, scrollable, never wrapped into nonsense. */
export function CodeBlock({
  code,
  testId,
  maxHeight,
}: {
  code: string;
  testId?: string;
  maxHeight?: number | string;
}) {
  return (
    <pre className="code" data-testid={testId} style={maxHeight ? { maxHeight } : undefined}>
      <code>{code}</code>
    </pre>
  );
}
