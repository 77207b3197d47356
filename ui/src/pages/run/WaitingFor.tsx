/** What a parked workflow waits for, in words, with the event form when it waits for one. */
import type { RunView, WaitInfo } from '../../../../src/client/index.js';
import { Panel } from '../../components/Panel.js';
import { RelativeTime } from '../../components/Time.js';
import { Link } from '../../router.js';
import { runHref } from '../RunsTable.js';
import { SendEventForm } from './SendEventForm.js';

function describe(wait: WaitInfo) {
  switch (wait.kind) {
    case 'event':
      return (
        <>
          the event <code>{wait.event}</code>
          {wait.key !== null && (
            <>
              {' '}
              with key <code>{wait.key}</code>
            </>
          )}
          {wait.until !== null ? (
            <>
              , giving up <RelativeTime at={wait.until} />
            </>
          ) : (
            ', with no time limit'
          )}
        </>
      );
    case 'sleep':
      return (
        <>
          a timer: it resumes <RelativeTime at={wait.until} />
        </>
      );
    case 'child':
      return (
        <>
          its child run <Link to={runHref(wait.childRunId)}>{wait.childRunId}</Link> to finish
        </>
      );
    case 'retry':
      return (
        <>
          its next attempt, <RelativeTime at={wait.until} />
        </>
      );
  }
}

export function WaitingFor({ run, onSent }: { run: RunView; onSent: () => void }) {
  const wait = run.waitingFor;
  if (!wait) return null;
  return (
    <Panel title="Waiting" className="waiting-panel">
      <p data-testid="waiting-for" data-wait-kind={wait.kind}>
        At <code>{wait.entry}</code>, this run waits for {describe(wait)}. It holds no worker while
        it waits.
      </p>
      {wait.kind === 'event' && (
        <SendEventForm key={`${wait.entry}:${wait.event}`} wait={wait} onSent={onSent} />
      )}
    </Panel>
  );
}
