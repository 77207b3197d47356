/**
 * The inputs of a schema form, one per field: each carries `field-<path>` and its message
 * `field-error-<path>`, the ids the browser tests use.
 */
import type { FieldSpec, FormValues, RawValue, ScalarSpec } from './json-schema.js';

function hintOf(spec: ScalarSpec): string | null {
  switch (spec.kind) {
    case 'enum':
      return spec.options.map(String).join(' · ');
    case 'number': {
      // zod writes the safe-integer limits of `.int()`: bounds nobody needs to be told.
      const shown = (n: number | undefined) => n !== undefined && Math.abs(n) < 1e15;
      const range = [
        shown(spec.minimum)
          ? `≥ ${spec.minimum}`
          : shown(spec.exclusiveMinimum)
            ? `> ${spec.exclusiveMinimum}`
            : null,
        shown(spec.maximum)
          ? `≤ ${spec.maximum}`
          : shown(spec.exclusiveMaximum)
            ? `< ${spec.exclusiveMaximum}`
            : null,
      ].filter(Boolean);
      return [spec.integer ? 'whole number' : 'number', ...range].join(', ');
    }
    case 'string':
      // A pattern is shown by the error message when it fails, not as a hint nobody reads.
      return spec.format ?? null;
    case 'boolean':
      return null;
  }
}

function FieldInput({
  field,
  value,
  onChange,
  invalid,
  suggestions,
}: {
  field: FieldSpec;
  value: RawValue;
  onChange: (value: RawValue) => void;
  invalid: boolean;
  /** Values to offer (a partition param's keys): a list the input suggests from. */
  suggestions?: readonly string[];
}) {
  const common = {
    id: `field-${field.path}`,
    'data-testid': `field-${field.path}`,
    'aria-invalid': invalid || undefined,
    'aria-describedby': invalid ? `field-error-${field.path}` : undefined,
  };
  const text = typeof value === 'string' ? value : '';
  switch (field.kind) {
    case 'boolean':
      return (
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(e) => onChange(e.target.checked)}
        />
      );
    case 'enum':
      return (
        <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
          <option value="">{field.required ? 'choose…' : '(none)'}</option>
          {field.options.map((o) => (
            <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
    case 'json':
      return (
        <textarea
          {...common}
          className="mono"
          rows={4}
          placeholder="JSON"
          value={text}
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case 'list':
      return (
        <input
          {...common}
          type="text"
          placeholder="comma-separated"
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case 'string':
      if (suggestions) {
        return (
          <>
            <input
              {...common}
              type="text"
              className="mono"
              list={`field-options-${field.path}`}
              autoComplete="off"
              value={text}
              onChange={(e) => onChange(e.target.value)}
            />
            <datalist id={`field-options-${field.path}`}>
              {suggestions.map((option) => (
                <option key={option} value={option} />
              ))}
            </datalist>
          </>
        );
      }
      return (
        <input
          {...common}
          type={field.format === 'date' ? 'date' : 'text'}
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case 'number':
      // Text, not type=number: the form's own messages explain what is wrong.
      return (
        <input
          {...common}
          type="text"
          inputMode={field.integer ? 'numeric' : 'decimal'}
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case 'union':
      return (
        <input {...common} type="text" value={text} onChange={(e) => onChange(e.target.value)} />
      );
    case 'object':
      return null;
  }
}

function fieldHint(field: FieldSpec): string | null {
  switch (field.kind) {
    case 'list':
      return `list of ${hintOf(field.item) ?? field.item.kind}`;
    case 'union':
      return field.variants.map((v) => (v.kind === 'string' ? 'text' : v.kind)).join(' or ');
    case 'json':
      return 'JSON';
    case 'object':
      return null;
    default:
      return hintOf(field);
  }
}

export function SchemaFields({
  fields,
  values,
  errors,
  onChange,
  suggestions,
}: {
  fields: readonly FieldSpec[];
  values: FormValues;
  errors: Readonly<Record<string, string>>;
  onChange: (path: string, value: RawValue) => void;
  /** Values offered for text fields, by path (a partition param's existing keys). */
  suggestions?: Readonly<Record<string, readonly string[]>>;
}) {
  return (
    <>
      {fields.map((field) => {
        if (field.kind === 'object') {
          return (
            <fieldset key={field.path} className="form-group" data-testid={`field-${field.path}`}>
              <legend>
                {field.title ?? field.name}
                {field.required && (
                  <span className="required" title="required">
                    *
                  </span>
                )}
              </legend>
              {field.description && <p className="field-help">{field.description}</p>}
              <SchemaFields
                fields={field.fields}
                values={values}
                errors={errors}
                onChange={onChange}
                suggestions={suggestions}
              />
            </fieldset>
          );
        }
        const error = errors[field.path];
        const hint = fieldHint(field);
        const inline = field.kind === 'boolean';
        return (
          <div key={field.path} className={inline ? 'form-field inline' : 'form-field'}>
            <label htmlFor={`field-${field.path}`}>
              <span className="field-name">{field.title ?? field.name}</span>
              {field.required && (
                <span className="required" title="required">
                  *
                </span>
              )}
              {hint && <span className="field-hint">{hint}</span>}
            </label>
            <FieldInput
              field={field}
              value={values[field.path] ?? ''}
              onChange={(v) => onChange(field.path, v)}
              invalid={error !== undefined}
              suggestions={suggestions?.[field.path]}
            />
            {field.description && <p className="field-help">{field.description}</p>}
            {error && (
              <p
                className="field-error"
                id={`field-error-${field.path}`}
                data-testid={`field-error-${field.path}`}
              >
                {error}
              </p>
            )}
          </div>
        );
      })}
    </>
  );
}
