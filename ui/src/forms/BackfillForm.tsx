/**
 * Starts a backfill of a partitioned pipeline (`POST /api/backfills`) over the partitions chosen
 * in its grid: how many runs at once, and the runs' other params (the partition param is set
 * per run), from the pipeline's JSON Schema like the trigger form. A new backfill opens its page.
 */
import { useMemo, useState, type FormEvent } from 'react';
import type {
  CreateBackfillRequest,
  DefinitionView,
  PartitionState,
  PartitionsSpec,
} from '../../../src/client/index.js';
import { useApiContext } from '../api/client.js';
import { errorTitle, toUiError, type UiError } from '../api/errors.js';
import { Button } from '../components/Button.js';
import { rangeText } from '../components/BackfillParts.js';
import type { KeyRange } from '../components/PartitionGrid.js';
import { navigate } from '../router.js';
import {
  buildValue,
  fieldOfIssue,
  initialValues,
  schemaFields,
  type FormValues,
  type RawValue,
} from './json-schema.js';
import { SchemaFields } from './SchemaFields.js';

/** The default of `maxConcurrent`, as the server has it. */
const DEFAULT_CONCURRENCY = 4;

/** The keys of a range of the grid's cells (both ends included), in grid order. */
export function keysIn(cells: readonly PartitionState[], range: KeyRange): PartitionState[] {
  const a = cells.findIndex((c) => c.key === range.from);
  const b = cells.findIndex((c) => c.key === range.to);
  if (a < 0 || b < 0) return [];
  return cells.slice(Math.min(a, b), Math.max(a, b) + 1);
}

const isRedo = (c: PartitionState) =>
  c.status === 'missing' || c.status === 'failed' || c.status === 'cancelled';

function BackfillError({ error }: { error: UiError }) {
  const issues = error.kind === 'rejected' ? error.issues : [];
  return (
    <div className="inline-error" role="alert" data-testid="backfill-error">
      <strong>{errorTitle(error)}:</strong> {error.message}
      {issues.length > 0 && (
        <ul className="issue-list">
          {issues.map((issue, i) => (
            <li key={i}>
              <code>{issue.path.map(String).join('.') || '(params)'}</code>: {issue.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function BackfillForm({
  definition,
  spec,
  cells,
  total,
  range,
  onCancel,
}: {
  definition: DefinitionView;
  spec: PartitionsSpec;
  /** The partitions the grid shows, in key order. */
  cells: readonly PartitionState[];
  /** Partitions that exist in all (the grid may show the latest ones only). */
  total: number;
  /** The chosen range; null: every partition. */
  range: KeyRange | null;
  onCancel: () => void;
}) {
  const { client, requireSignIn } = useApiContext();
  // The partition param is the backfill's to set, run by run: the form asks for the others.
  const fields = useMemo(() => {
    const all = schemaFields(definition.inputSchema);
    return all ? all.filter((f) => f.path !== spec.param) : null;
  }, [definition.inputSchema, spec.param]);
  const [values, setValues] = useState<FormValues>(() =>
    fields ? initialValues(fields) : { params: '{}' },
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [concurrency, setConcurrency] = useState(String(DEFAULT_CONCURRENCY));
  const [onlyRedo, setOnlyRedo] = useState(false);
  const [submitError, setSubmitError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);

  const chosen = useMemo(() => (range ? keysIn(cells, range) : null), [cells, range]);
  const redo = useMemo(() => (chosen ?? cells).filter(isRedo), [chosen, cells]);
  const count = onlyRedo ? redo.length : chosen ? chosen.length : total;

  const onChange = (path: string, value: RawValue) => {
    setValues((v) => ({ ...v, [path]: value }));
    setErrors(({ [path]: _gone, ...rest }) => rest);
  };

  const read = (): CreateBackfillRequest | null => {
    const found: Record<string, string> = {};
    let params: Record<string, unknown> | undefined;
    if (fields) {
      const built = buildValue(fields, values);
      Object.assign(found, built.errors);
      params = built.value;
    } else {
      const text = typeof values.params === 'string' ? values.params.trim() : '';
      try {
        const parsed = text ? (JSON.parse(text) as unknown) : {};
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          found.params = 'a JSON object: the runs’ other params';
        } else params = parsed as Record<string, unknown>;
      } catch (error) {
        found.params = `not valid JSON: ${(error as Error).message}`;
      }
    }
    const max = Number(concurrency.trim());
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      found['max-concurrent'] = 'a whole number from 1 to 1000';
    }
    if (count === 0) found.partitions = 'no partition to run: choose others';
    setErrors(found);
    if (Object.keys(found).length) return null;
    const which = onlyRedo
      ? { partitions: redo.map((c) => c.key) }
      : chosen
        ? { from: chosen[0]!.key, to: chosen[chosen.length - 1]!.key }
        : {};
    return {
      target: definition.name,
      ...which,
      ...(params && Object.keys(params).length ? { params } : {}),
      maxConcurrent: max,
    };
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitError(null);
    const body = read();
    if (!body) return;
    setBusy(true);
    try {
      const backfill = await client.createBackfill(body);
      navigate(`/backfills/${encodeURIComponent(backfill.id)}`);
    } catch (error) {
      const uiError = toUiError(error);
      if (uiError.kind === 'unauthorized') requireSignIn();
      if (fields && uiError.kind === 'rejected') {
        for (const issue of uiError.issues) {
          const path = issue.path[0] === 'params' ? issue.path.slice(1) : issue.path;
          const about = fieldOfIssue(fields, path, issue.message);
          if (about) setErrors((e) => ({ ...e, [about.path]: about.text }));
        }
      }
      setSubmitError(uiError);
      setBusy(false);
    }
  };

  const keys = chosen ? chosen.map((c) => c.key) : null;
  return (
    <form className="form" data-testid="backfill-form" onSubmit={(e) => void submit(e)} noValidate>
      <div className="backfill-summary">
        <div>
          <span className="field-name">Partitions</span>{' '}
          <span className="mono" data-testid="backfill-range">
            {keys ? rangeText(keys) : 'all'}
          </span>{' '}
          <span className="muted small" data-testid="backfill-count" data-count={count}>
            ({count.toLocaleString()} run{count === 1 ? '' : 's'}
            {onlyRedo ? ', missing, failed or cancelled only' : ''})
          </span>
        </div>
        <div className="muted small">
          Each run sets <code>{spec.param}</code> to its partition&apos;s key.
        </div>
        {errors.partitions && (
          <p className="field-error" data-testid="backfill-field-partitions-error">
            {errors.partitions}
          </p>
        )}
      </div>
      <div className="form-field">
        <label htmlFor="backfill-field-max-concurrent">
          <span className="field-name">max concurrent</span>
          <span className="field-hint">runs unfinished at once, 1–1000</span>
        </label>
        <input
          id="backfill-field-max-concurrent"
          data-testid="backfill-field-max-concurrent"
          className="narrow"
          inputMode="numeric"
          value={concurrency}
          aria-invalid={errors['max-concurrent'] ? true : undefined}
          onChange={(e) => {
            setConcurrency(e.target.value);
            setErrors(({ 'max-concurrent': _gone, ...rest }) => rest);
          }}
        />
        {errors['max-concurrent'] && (
          <p className="field-error" data-testid="backfill-field-max-concurrent-error">
            {errors['max-concurrent']}
          </p>
        )}
      </div>
      <div className="form-field inline">
        <label htmlFor="backfill-field-only-missing">
          <span className="field-name">only the missing, failed or cancelled ones</span>
          <span className="field-hint">
            {redo.length.toLocaleString()} of {(chosen ?? cells).length.toLocaleString()}
          </span>
        </label>
        <input
          id="backfill-field-only-missing"
          data-testid="backfill-field-only-missing"
          type="checkbox"
          checked={onlyRedo}
          onChange={(e) => {
            setOnlyRedo(e.target.checked);
            setErrors(({ partitions: _gone, ...rest }) => rest);
          }}
        />
      </div>
      <fieldset className="form-group">
        <legend>Params</legend>
        {fields ? (
          fields.length === 0 ? (
            <p className="muted small">The runs take no other params.</p>
          ) : (
            <SchemaFields fields={fields} values={values} errors={errors} onChange={onChange} />
          )
        ) : (
          <div className="form-field">
            <label htmlFor="backfill-field-params">
              <span className="field-name">params</span>
              <span className="field-hint">JSON, without {spec.param}</span>
            </label>
            <textarea
              id="backfill-field-params"
              data-testid="backfill-field-params"
              className="mono"
              rows={4}
              spellCheck={false}
              value={typeof values.params === 'string' ? values.params : ''}
              onChange={(e) => onChange('params', e.target.value)}
            />
            {errors.params && (
              <p className="field-error" data-testid="backfill-field-params-error">
                {errors.params}
              </p>
            )}
          </div>
        )}
      </fieldset>
      {submitError && <BackfillError error={submitError} />}
      <div className="form-actions">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={busy} data-testid="backfill-submit">
          Launch backfill
        </Button>
      </div>
    </form>
  );
}
