/**
 * One backfill: its pipeline, range and params, its progress, and the status of each of its
 * partitions in the grid the pipeline's page uses (a cell with a run opens it). Pause stops
 * launching runs, resume goes on, cancel (after a confirmation) also cancels its unfinished
 * runs. Read again every 2 s while anything in it is unfinished.
 */
import { useEffect, useState } from 'react';
import type { BackfillView } from '../../../src/client/index.js';
import { useApiContext } from '../api/client.js';
import { loadDefinition } from '../api/definitions.js';
import { toUiError, type UiError } from '../api/errors.js';
import { dataOf, useApi } from '../api/use-api.js';
import {
  BackfillProgress,
  BackfillStatusBadge,
  isUnfinished,
  rangeText,
} from '../components/BackfillParts.js';
import { Button } from '../components/Button.js';
import { ConfirmDialog } from '../components/Dialog.js';
import { formatTimestamp } from '../components/format.js';
import { JsonView } from '../components/JsonView.js';
import { PageHeader } from '../components/PageHeader.js';
import { Fact, Facts, Panel } from '../components/Panel.js';
import { PartitionCounts, PartitionGrid } from '../components/PartitionGrid.js';
import { ErrorState, InlineError, Loading } from '../components/States.js';
import { RelativeTime } from '../components/Time.js';
import { Link, navigate } from '../router.js';
import { LIVE_MS } from './BackfillsPage.js';
import { NotFoundPage } from './NotFoundPage.js';
import { runHref } from './RunsTable.js';

type Action = 'pause' | 'resume' | 'cancel';

/** Failed partitions listed by name (each a link to its run); the grid shows them all. */
const FAILED_SHOWN = 30;

export function BackfillDetailPage({ id }: { id: string }) {
  const { client, requireSignIn } = useApiContext();
  const detail = useApi((c) => c.backfill(id), [id]);
  const { state, reload, update } = detail;
  const target = dataOf(state)?.backfill.target ?? null;
  // The pipeline's partitions say how to lay the grid out; without them it is one row.
  const definition = useApi(
    (c) => (target ? loadDefinition(c, target).catch(() => null) : Promise.resolve(null)),
    [target],
  );
  const [busy, setBusy] = useState<Action | null>(null);
  const [actionError, setActionError] = useState<UiError | null>(null);
  const [confirming, setConfirming] = useState(false);

  const data = dataOf(state);
  const live =
    data !== undefined &&
    (isUnfinished(data.backfill.status) ||
      data.partitions.some((p) => p.status === 'queued' || p.status === 'running'));
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(reload, LIVE_MS);
    return () => clearInterval(timer);
  }, [live, reload]);

  const act = async (action: Action) => {
    setBusy(action);
    setActionError(null);
    try {
      const backfill: BackfillView =
        action === 'pause'
          ? await client.pauseBackfill(id)
          : action === 'resume'
            ? await client.resumeBackfill(id)
            : await client.cancelBackfill(id);
      update((d) => ({ ...d, backfill }));
      reload();
    } catch (error) {
      const uiError = toUiError(error);
      if (uiError.kind === 'unauthorized') requireSignIn();
      setActionError(uiError);
    } finally {
      setBusy(null);
    }
  };

  if (state.status === 'loading') {
    return (
      <div className="page">
        <Loading />
      </div>
    );
  }
  if (state.status === 'error') {
    if (state.error.kind === 'not-found') return <NotFoundPage what={state.error.message} />;
    return (
      <div className="page">
        <ErrorState error={state.error} onRetry={reload} />
      </div>
    );
  }
  const { backfill, partitions } = state.data;
  const graph = dataOf(definition.state)?.graph;
  const spec = graph?.kind === 'pipeline' ? (graph.partitions ?? null) : null;
  const failed = partitions.filter((p) => p.status === 'failed' && p.runId !== null);
  const params =
    backfill.params !== null &&
    typeof backfill.params === 'object' &&
    Object.keys(backfill.params).length > 0
      ? backfill.params
      : null;

  return (
    <div className="page">
      <PageHeader
        kicker={
          <>
            <Link to="/backfills">Backfills</Link> /{' '}
            <Link to={`/catalog/${encodeURIComponent(backfill.target)}`}>{backfill.target}</Link>
          </>
        }
        title={
          <span className="run-title">
            <BackfillStatusBadge status={backfill.status} testId="backfill-status" />
            <span className="mono">{backfill.id}</span>
          </span>
        }
        actions={
          <span className="row-actions">
            {backfill.status === 'running' && (
              <Button
                data-testid="backfill-pause"
                busy={busy === 'pause'}
                disabled={busy !== null}
                onClick={() => void act('pause')}
              >
                ❚❚ Pause
              </Button>
            )}
            {backfill.status === 'paused' && (
              <Button
                variant="primary"
                data-testid="backfill-resume"
                busy={busy === 'resume'}
                disabled={busy !== null}
                onClick={() => void act('resume')}
              >
                ▶ Resume
              </Button>
            )}
            {isUnfinished(backfill.status) && (
              <Button
                variant="danger"
                data-testid="backfill-cancel"
                busy={busy === 'cancel'}
                disabled={busy !== null}
                onClick={() => setConfirming(true)}
              >
                Cancel backfill
              </Button>
            )}
          </span>
        }
      >
        <Facts>
          <Fact label="Pipeline">
            <Link
              to={`/catalog/${encodeURIComponent(backfill.target)}`}
              data-testid="backfill-target"
            >
              {backfill.target}
            </Link>
          </Fact>
          <Fact label="Partitions">
            <span className="mono small" data-testid="backfill-range">
              {rangeText(backfill.partitions)}
            </span>{' '}
            <span className="muted small">({backfill.total.toLocaleString()})</span>
          </Fact>
          <Fact label="Launched">
            <span data-testid="backfill-launched" data-launched={backfill.launched}>
              {backfill.launched.toLocaleString()} / {backfill.total.toLocaleString()}
            </span>
          </Fact>
          <Fact label="At once">
            <span data-testid="backfill-max-concurrent">{backfill.maxConcurrent}</span>
          </Fact>
          <Fact label="Created">
            <span title={formatTimestamp(backfill.createdAt)}>
              <RelativeTime at={backfill.createdAt} />
            </span>
          </Fact>
          <Fact label="Finished">
            <RelativeTime at={backfill.finishedAt} />
          </Fact>
        </Facts>
      </PageHeader>
      <InlineError error={actionError} testId="backfill-action-error" />
      <Panel title="Progress">
        <BackfillProgress backfill={backfill} testId="backfill-progress" wide />
        {backfill.status === 'paused' && (
          <p className="muted small">
            Paused: no new run starts; the runs already started go on. Resume to launch the rest.
          </p>
        )}
      </Panel>
      <Panel
        title="Partitions"
        actions={<PartitionCounts counts={backfill.counts} total={backfill.total} />}
      >
        <PartitionGrid
          cells={partitions}
          spec={spec}
          onOpen={(cell) => {
            if (cell.runId) navigate(runHref(cell.runId));
          }}
        />
        <p className="muted small">
          Each cell is the latest run of its partition in this backfill; grey: not launched yet.
          Click one with a run to open it.
        </p>
      </Panel>
      {failed.length > 0 && (
        <Panel title={`Failed partitions (${failed.length.toLocaleString()})`}>
          <ul className="failed-partitions" data-testid="backfill-failed">
            {failed.slice(0, FAILED_SHOWN).map((p) => (
              <li key={p.key}>
                <Link to={runHref(p.runId!)} className="mono small">
                  {p.key}
                </Link>
              </li>
            ))}
            {failed.length > FAILED_SHOWN && (
              <li className="muted small">and {failed.length - FAILED_SHOWN} more in the grid</li>
            )}
          </ul>
        </Panel>
      )}
      {params !== null && (
        <Panel title="Params of every run">
          <JsonView value={params} testId="backfill-params" />
        </Panel>
      )}
      <ConfirmDialog
        open={confirming}
        title={`Cancel backfill ${backfill.id}?`}
        message={
          <>
            No further run of <strong>{backfill.target}</strong> starts from it, and its unfinished
            runs are cancelled. Runs that finished stay.
          </>
        }
        confirmLabel="Cancel backfill"
        onConfirm={() => void act('cancel')}
        onClose={() => setConfirming(false)}
      />
    </div>
  );
}
