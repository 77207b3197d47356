/** A definition's latest runs, under its graph. */
import { useApi } from '../api/use-api.js';
import { Panel } from '../components/Panel.js';
import { EmptyState } from '../components/States.js';
import { Link } from '../router.js';
import { tableState } from '../components/Table.js';
import { RunsTable } from './RunsTable.js';

export function RecentRuns({ definition }: { definition: string }) {
  const { state, reload } = useApi(
    (client) => client.runs({ definition, limit: 10 }),
    [definition],
  );
  return (
    <Panel
      title="Recent runs"
      flush
      actions={<Link to={`/runs?definition=${encodeURIComponent(definition)}`}>All runs →</Link>}
    >
      <RunsTable
        state={tableState(state, (d) => d.runs, reload)}
        empty={
          <EmptyState title="No runs yet" inline>
            Trigger one with the button above.
          </EmptyState>
        }
      />
    </Panel>
  );
}
