/**
 * Starts a run of a definition from a form generated from its input's JSON Schema. The browser
 * checks what it can first; a 400 from the server is shown on the field its message names (or
 * above the form), and a new run opens its page.
 */
import { useMemo, useState, type FormEvent } from 'react';
import type { DefinitionView } from '../../../src/client/index.js';
import { useApiContext } from '../api/client.js';
import { useApi } from '../api/use-api.js';
import { toUiError, type UiError } from '../api/errors.js';
import { Button } from '../components/Button.js';
import { InlineError } from '../components/States.js';
import { navigate } from '../router.js';
import {
  buildValue,
  fieldOfIssue,
  fieldOfMessage,
  initialValues,
  schemaFields,
  type FormValues,
  type RawValue,
} from './json-schema.js';
import { SchemaFields } from './SchemaFields.js';

/** The most partition keys the form offers (the latest ones); any other can be typed. */
const PARTITION_KEYS = 1000;

export function TriggerForm({
  definition,
  onCancel,
}: {
  definition: DefinitionView;
  onCancel: () => void;
}) {
  const { client, requireSignIn } = useApiContext();
  const fields = useMemo(() => schemaFields(definition.inputSchema), [definition.inputSchema]);
  const [values, setValues] = useState<FormValues>(() =>
    fields ? initialValues(fields) : { params: '{}' },
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [tags, setTags] = useState('');
  const [submitError, setSubmitError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  // A partitioned pipeline's partition param is offered its existing keys, newest first.
  const spec = definition.graph.kind === 'pipeline' ? definition.graph.partitions : undefined;
  const { state: keyState } = useApi(
    async (c): Promise<readonly string[]> => {
      if (!spec) return [];
      if (spec.kind === 'static') return spec.keys;
      const { partitions } = await c.partitions(definition.name, { limit: PARTITION_KEYS });
      return partitions.map((p) => p.key).reverse();
    },
    [definition.name, spec],
  );
  const suggestions = useMemo(
    () =>
      spec && keyState.status === 'ready' && keyState.data.length > 0
        ? { [spec.param]: keyState.data }
        : undefined,
    [spec, keyState],
  );

  const onChange = (path: string, value: RawValue) => {
    setValues((v) => ({ ...v, [path]: value }));
    setErrors(({ [path]: _gone, ...rest }) => rest);
  };

  const readParams = (): { params: unknown } | null => {
    if (fields) {
      const { value, errors: found } = buildValue(fields, values);
      setErrors(found);
      return Object.keys(found).length ? null : { params: value };
    }
    const text = typeof values.params === 'string' ? values.params : '';
    try {
      return { params: text.trim() ? (JSON.parse(text) as unknown) : undefined };
    } catch (error) {
      setErrors({ params: `not valid JSON: ${(error as Error).message}` });
      return null;
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitError(null);
    const read = readParams();
    if (!read) return;
    setBusy(true);
    try {
      const tagList = tags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const { run } = await client.trigger({
        definition: definition.name,
        ...(read.params !== undefined ? { params: read.params } : {}),
        ...(tagList.length ? { tags: tagList } : {}),
      });
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (error) {
      const uiError = toUiError(error);
      if (uiError.kind === 'unauthorized') requireSignIn();
      if (fields && uiError.kind === 'rejected') {
        // Each field the server names gets its own message; an older server says it in text.
        const found = uiError.issues.length
          ? uiError.issues.map((i) => fieldOfIssue(fields, i.path, i.message))
          : [fieldOfMessage(fields, uiError.message)];
        for (const about of found) {
          if (about) setErrors((e) => ({ ...e, [about.path]: about.text }));
        }
      }
      setSubmitError(uiError);
      setBusy(false);
    }
  };

  return (
    <form className="form" data-testid="trigger-form" onSubmit={(e) => void submit(e)} noValidate>
      {definition.triggerable === false && (
        <div className="notice">
          This definition&apos;s input schema transforms values (or holds dates), which only its
          code can check: this server will refuse the run. Trigger it where its code runs (
          <code>weft dev</code>, or <code>weft run</code>).
        </div>
      )}
      {fields ? (
        fields.length === 0 ? (
          <p className="muted">This definition takes no input.</p>
        ) : (
          <SchemaFields
            fields={fields}
            values={values}
            errors={errors}
            onChange={onChange}
            suggestions={suggestions}
          />
        )
      ) : (
        <div className="form-field">
          <label htmlFor="field-params">
            <span className="field-name">
              {definition.kind === 'pipeline' ? 'params' : 'input'}
            </span>
            <span className="field-hint">JSON</span>
          </label>
          <textarea
            id="field-params"
            data-testid="field-params"
            className="mono"
            rows={6}
            spellCheck={false}
            value={typeof values.params === 'string' ? values.params : ''}
            onChange={(e) => onChange('params', e.target.value)}
          />
          {errors.params && (
            <p className="field-error" data-testid="field-error-params">
              {errors.params}
            </p>
          )}
        </div>
      )}
      <details className="form-advanced">
        <summary>Run options</summary>
        <div className="form-field">
          <label htmlFor="trigger-tags">
            <span className="field-name">tags</span>
            <span className="field-hint">comma-separated</span>
          </label>
          <input
            id="trigger-tags"
            data-testid="trigger-tags"
            value={tags}
            onChange={(e) => setTags(e.target.value)}
          />
        </div>
      </details>
      <InlineError error={submitError} testId="trigger-error" />
      <div className="form-actions">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={busy} data-testid="trigger-submit">
          Start run
        </Button>
      </div>
    </form>
  );
}
