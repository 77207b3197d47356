/** Every pipeline and workflow the workers registered, with what each is for. */
import type { DefinitionView } from '../../../src/client/index.js';
import { useApi } from '../api/use-api.js';
import { Badge, Tags } from '../components/Badge.js';
import { PageHeader } from '../components/PageHeader.js';
import { EmptyState } from '../components/States.js';
import { Table, tableState, type Column } from '../components/Table.js';
import { RelativeTime } from '../components/Time.js';
import { Link, navigate } from '../router.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function summary(d: DefinitionView): string {
  if (d.graph.kind === 'pipeline') {
    const maps = d.graph.nodes.filter((n) => n.kind === 'map').length;
    const { partitions } = d.graph;
    const partitioned = partitions
      ? ` · partitioned by ${partitions.param} (${partitions.kind === 'static' ? plural(partitions.keys.length, 'key') : partitions.granularity})`
      : '';
    return `${plural(d.graph.nodes.length, 'node')}${maps ? ` · ${maps} fan-out` : ''}${d.graph.params.length ? ` · ${plural(d.graph.params.length, 'param')}` : ''}${partitioned}`;
  }
  return d.graph.retries ? `${d.graph.retries} retries` : 'durable function';
}

const columns: Column<DefinitionView>[] = [
  {
    key: 'name',
    header: 'Name',
    width: '24%',
    render: (d) => (
      <Link
        to={`/catalog/${encodeURIComponent(d.name)}`}
        className="strong-link"
        data-testid={`catalog-item-${d.name}`}
      >
        {d.name}
      </Link>
    ),
  },
  {
    key: 'kind',
    header: 'Kind',
    width: 116,
    render: (d) => <Badge tone={d.kind === 'pipeline' ? 'accent' : 'neutral'}>{d.kind}</Badge>,
  },
  {
    key: 'description',
    header: 'Description',
    render: (d) => (
      <div>
        <div>{d.graph.description ?? <span className="muted">No description</span>}</div>
        <div className="muted small">{summary(d)}</div>
      </div>
    ),
  },
  { key: 'labels', header: 'Labels', width: 140, render: (d) => <Tags values={d.labels} /> },
  {
    key: 'registered',
    header: 'Registered',
    width: 150,
    render: (d) => (
      <div>
        <RelativeTime at={d.registeredAt} />
        {/* Runs of a definition no live worker runs wait in the queue until one starts. */}
        {d.workers === 0 && (
          <div className="small" data-testid={`catalog-no-worker-${d.name}`}>
            <Badge tone="warn">no live worker</Badge>
          </div>
        )}
      </div>
    ),
  },
];

export function CatalogPage() {
  const { state, reload } = useApi((client) => client.definitions(), []);
  return (
    <div className="page">
      <PageHeader
        kicker="Catalog"
        title="Pipelines and workflows"
        subtitle="What the workers connected to this database can run, as they registered it."
      />
      <div className="panel">
        <Table
          columns={columns}
          rowKey={(d) => d.name}
          onRowClick={(d) => navigate(`/catalog/${encodeURIComponent(d.name)}`)}
          state={tableState(state, (d) => d.definitions, reload)}
          empty={
            <EmptyState title="No definitions yet">
              Start a worker (<code>weft worker</code>) or a run (<code>weft run</code>): it
              registers its pipelines and workflows here.
            </EmptyState>
          }
        />
      </div>
    </div>
  );
}
