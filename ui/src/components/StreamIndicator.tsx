import type { StreamStatus } from '../api/use-stream.js';

const TEXT: Record<StreamStatus, string> = {
  connecting: 'connecting',
  live: 'live',
  retrying: 'reconnecting…',
  unsupported: 'not live (no stream on this server)',
  off: 'not live',
};

/** Whether a page follows the server's stream. */
export function StreamIndicator({ status }: { status: StreamStatus }) {
  return (
    <span className={`stream stream-${status}`} data-testid="stream-status" data-stream={status}>
      <span className="stream-dot" aria-hidden />
      {TEXT[status]}
    </span>
  );
}
