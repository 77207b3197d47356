/** The top of a run's page: its status, id, definition, timings and tags. */
import type { ReactNode } from 'react';
import type { RunView } from '../../../../src/client/index.js';
import { Badge, StatusBadge, Tags } from '../../components/Badge.js';
import { formatTimestamp } from '../../components/format.js';
import { PageHeader } from '../../components/PageHeader.js';
import { Fact, Facts } from '../../components/Panel.js';
import { Duration, RelativeTime } from '../../components/Time.js';
import { Link } from '../../router.js';
import { runHref } from '../RunsTable.js';

/** What started the run; a backfill's or a schedule's name links to it. */
function TriggerText({ trigger }: { trigger: string }) {
  const backfill = /^backfill:(.+)$/.exec(trigger);
  if (backfill) {
    return (
      <Link to={`/backfills/${encodeURIComponent(backfill[1]!)}`} data-testid="run-backfill">
        {trigger}
      </Link>
    );
  }
  if (trigger.startsWith('schedule:')) return <Link to="/schedules">{trigger}</Link>;
  return <>{trigger}</>;
}

export function RunHeader({ run, actions }: { run: RunView; actions: ReactNode }) {
  return (
    <PageHeader
      kicker={
        <>
          <Link to="/runs">Runs</Link> /{' '}
          <Link to={`/catalog/${encodeURIComponent(run.definition)}`}>{run.definition}</Link>
        </>
      }
      title={
        <span className="run-title">
          <StatusBadge status={run.status} testId="run-status" held={run.held} long />
          <span className="mono">{run.id}</span>
        </span>
      }
      actions={actions}
    >
      <Facts>
        <Fact label="Definition">
          <Link to={`/catalog/${encodeURIComponent(run.definition)}`} data-testid="run-definition">
            {run.definition}
          </Link>{' '}
          <Badge>{run.kind}</Badge>
        </Fact>
        {run.partition !== null && run.partition !== undefined && (
          <Fact label="Partition">
            <span className="mono" data-testid="run-partition">
              {run.partition}
            </span>
          </Fact>
        )}
        <Fact label="Trigger">
          <TriggerText trigger={run.trigger} />
        </Fact>
        <Fact label="Created">
          <span title={formatTimestamp(run.createdAt)}>
            <RelativeTime at={run.createdAt} />
          </span>
        </Fact>
        <Fact label="Started">
          <RelativeTime at={run.startedAt} />
        </Fact>
        <Fact label="Finished">
          <RelativeTime at={run.finishedAt} />
        </Fact>
        <Fact label="Duration">
          <Duration start={run.startedAt} end={run.finishedAt} />
        </Fact>
        {run.parentRunId && (
          <Fact label="Parent">
            <Link to={runHref(run.parentRunId)} className="mono small">
              {run.parentRunId}
            </Link>
          </Fact>
        )}
        <Fact label="Tags">
          <Tags values={run.tags} />
        </Fact>
      </Facts>
    </PageHeader>
  );
}
