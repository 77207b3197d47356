/**
 * What can be done to a run: cancel it (confirmed first), retry a failed pipeline run from its
 * failures, re-run the selected node and what follows it, or send a workflow an event. A new
 * run opens its page; an error shows next to the buttons.
 */
import { useState } from 'react';
import type { RunView } from '../../../../src/client/index.js';
import { useApiContext } from '../../api/client.js';
import { toUiError, type UiError } from '../../api/errors.js';
import { Button } from '../../components/Button.js';
import { ConfirmDialog, Dialog } from '../../components/Dialog.js';
import { InlineError } from '../../components/States.js';
import { navigate } from '../../router.js';
import { runHref } from '../RunsTable.js';
import { isTerminal } from './run-model.js';
import { SendEventForm } from './SendEventForm.js';

type Action = 'cancel' | 'retry' | 'rerun';

export function RunActions({
  run,
  selectedNode,
  onRun,
  onChanged,
}: {
  run: RunView;
  /** The pipeline node selected on the graph, if any: what "re-run" starts from. */
  selectedNode: string | null;
  onRun: (run: RunView) => void;
  onChanged: () => void;
}) {
  const { client, requireSignIn } = useApiContext();
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [sending, setSending] = useState(false);
  const terminal = isTerminal(run.status);
  const pipeline = run.kind === 'pipeline';

  const act = async (action: Action, fn: () => Promise<void>) => {
    setBusy(action);
    setError(null);
    try {
      await fn();
    } catch (e) {
      const uiError = toUiError(e);
      if (uiError.kind === 'unauthorized') requireSignIn();
      setError(uiError);
    } finally {
      setBusy(null);
    }
  };

  const cancel = () =>
    act('cancel', async () => {
      const answer = await client.cancel(run.id, 'cancelled from the web UI');
      onRun(answer.run);
      onChanged();
    });
  const retry = () =>
    act('retry', async () => {
      const answer = await client.retry(run.id);
      navigate(runHref(answer.run.id));
    });
  const rerun = () =>
    act('rerun', async () => {
      if (!selectedNode) return;
      const answer = await client.rerun(run.id, [selectedNode]);
      navigate(runHref(answer.run.id));
    });

  return (
    <div className="run-actions">
      <div className="run-actions-buttons">
        {pipeline && (
          <Button
            data-testid="rerun-button"
            busy={busy === 'rerun'}
            disabled={!terminal || !selectedNode}
            title={
              !terminal
                ? 'A run can be re-run once it has finished'
                : selectedNode
                  ? `Run ${selectedNode} and everything downstream again, reading the rest from this run`
                  : 'Select a node on the graph first'
            }
            onClick={() => void rerun()}
          >
            ↻ Re-run {selectedNode ? <span className="mono">{selectedNode}</span> : 'node'} ↓
          </Button>
        )}
        {pipeline && run.status === 'failed' && (
          <Button
            variant="primary"
            data-testid="retry-button"
            busy={busy === 'retry'}
            onClick={() => void retry()}
          >
            ↻ Retry from failure
          </Button>
        )}
        {!pipeline && !terminal && run.waitingFor?.kind !== 'event' && (
          <Button data-testid="send-event-button" onClick={() => setSending(true)}>
            ✉ Send event
          </Button>
        )}
        {!terminal && (
          <Button
            variant="danger"
            data-testid="cancel-button"
            busy={busy === 'cancel'}
            onClick={() => setConfirming(true)}
          >
            ■ Cancel
          </Button>
        )}
      </div>
      <InlineError error={error} testId="action-error" />
      <ConfirmDialog
        open={confirming}
        title="Cancel this run?"
        message={
          <>
            The run and its unfinished steps become <strong>cancelled</strong>; workers running its
            steps abort them.{' '}
            {run.kind === 'workflow' ? 'Its unfinished child runs are cancelled too. ' : ''}
            This cannot be undone.
          </>
        }
        confirmLabel="Cancel run"
        onConfirm={() => void cancel()}
        onClose={() => setConfirming(false)}
      />
      <Dialog open={sending} title="Send an event" onClose={() => setSending(false)}>
        <SendEventForm wait={run.waitingFor} onSent={onChanged} />
      </Dialog>
    </div>
  );
}
