/**
 * Makes a schedule of a registered definition (`POST /api/schedules`). The server checks the
 * cron expression, the time zone and the params against the target's schema; its refusal is
 * shown on the form as it says it, each params issue with its path.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type {
  CreateScheduleRequest,
  DefinitionView,
  ScheduleView,
} from '../../../src/client/index.js';
import { useApiContext } from '../api/client.js';
import { errorTitle, toUiError, type UiError } from '../api/errors.js';
import { useApi } from '../api/use-api.js';
import { Button } from '../components/Button.js';

type When = 'cron' | 'every';
type CatchUp = NonNullable<CreateScheduleRequest['catchUp']>;
type Overlap = NonNullable<CreateScheduleRequest['overlap']>;

const CATCH_UPS: { value: CatchUp; label: string }[] = [
  { value: 'none', label: 'none: skip missed ticks' },
  { value: 'latest', label: 'latest: fire the latest missed tick' },
  { value: 'all', label: 'all: fire every missed tick' },
];

const OVERLAPS: { value: Overlap; label: string }[] = [
  { value: 'allow', label: 'allow: start another run' },
  { value: 'skip', label: 'skip: start none' },
  { value: 'queue', label: 'queue: start it held, after the previous run' },
  { value: 'cancel-previous', label: 'cancel-previous: cancel it, start the new one' },
];

/** Offered in the time zone field; any IANA name can be typed. */
const COMMON_ZONES = [
  'UTC',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Paris',
  'Europe/Madrid',
  'Europe/Moscow',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'Asia/Kolkata',
  'Asia/Singapore',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Auckland',
];

function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Params to start from: the defaults of the target's top-level properties, as JSON. What has
 * no default is left for the user to add (the server names what is missing).
 */
export function defaultParams(schema: unknown): string {
  const out: Record<string, unknown> = {};
  if (isObject(schema) && isObject(schema.properties)) {
    for (const [name, property] of Object.entries(schema.properties)) {
      if (isObject(property) && property.default !== undefined) out[name] = property.default;
    }
  }
  return JSON.stringify(out, null, 2);
}

/** The server's refusal; with `invalid_input`, each issue of the params by its path. */
function ScheduleError({ error }: { error: UiError }) {
  const issues = error.kind === 'rejected' ? error.issues : [];
  const ref = useRef<HTMLDivElement>(null);
  // The form scrolls in its dialog: the answer to a submit must not stay out of sight.
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);
  return (
    <div className="inline-error" role="alert" data-testid="schedule-error" ref={ref}>
      <strong>{errorTitle(error)}:</strong>{' '}
      {/* The message repeats the issues in one line; the list says them one by one. */}
      {issues.length > 0 ? "the target's schema refuses these params" : error.message}
      {issues.length > 0 && (
        <ul className="issue-list">
          {issues.map((issue, i) => (
            <li key={i}>
              <code>params{issue.path.map((p) => `.${String(p)}`).join('')}</code>: {issue.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Field({
  id,
  name,
  hint,
  required,
  help,
  error,
  children,
}: {
  id: string;
  name: string;
  hint?: string;
  required?: boolean;
  help?: ReactNode;
  error?: string;
  children: ReactNode;
}) {
  return (
    <div className="form-field">
      <label htmlFor={id}>
        <span className="field-name">{name}</span>
        {required && (
          <span className="required" title="required">
            *
          </span>
        )}
        {hint && <span className="field-hint">{hint}</span>}
      </label>
      {children}
      {help && <p className="field-help">{help}</p>}
      {error && (
        <p className="field-error" data-testid={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function ScheduleForm({
  onCreated,
  onCancel,
}: {
  onCreated: (schedule: ScheduleView) => void;
  onCancel: () => void;
}) {
  const { client, requireSignIn } = useApiContext();
  const { state: definitions } = useApi((c) => c.definitions(), []);
  const list: DefinitionView[] = useMemo(
    () =>
      definitions.status === 'ready'
        ? [...definitions.data.definitions].sort((a, b) => a.name.localeCompare(b.name))
        : [],
    [definitions],
  );
  const zone = useMemo(browserZone, []);
  const zones = useMemo(
    () => (COMMON_ZONES.includes(zone) ? COMMON_ZONES : [zone, ...COMMON_ZONES]),
    [zone],
  );

  const [name, setName] = useState('');
  const [target, setTarget] = useState('');
  const [when, setWhen] = useState<When>('cron');
  const [cron, setCron] = useState('');
  const [every, setEvery] = useState('');
  const [timezone, setTimezone] = useState(zone);
  const [params, setParams] = useState('{}');
  // Params follow the target's defaults until the user types in them.
  const [paramsEdited, setParamsEdited] = useState(false);
  const [catchUp, setCatchUp] = useState<CatchUp>('latest');
  const [maxCatchUp, setMaxCatchUp] = useState('');
  const [overlap, setOverlap] = useState<Overlap>('allow');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [jitter, setJitter] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [submitError, setSubmitError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);

  const chooseTarget = (next: string) => {
    setTarget(next);
    setErrors(({ target: _gone, ...rest }) => rest);
    const definition = list.find((d) => d.name === next);
    if (definition && !paramsEdited) setParams(defaultParams(definition.inputSchema));
  };

  /** The request, or null when the browser already knows what is wrong (shown per field). */
  const read = (): CreateScheduleRequest | null => {
    const found: Record<string, string> = {};
    if (!name.trim()) found['schedule-field-name'] = 'required';
    if (!target) found['schedule-field-target'] = 'choose what the schedule starts';
    const expression = (when === 'cron' ? cron : every).trim();
    if (!expression) {
      found[`schedule-field-${when}`] =
        when === 'cron' ? 'required, e.g. 30 2 * * *' : 'required, e.g. 15m';
    }
    let parsed: unknown;
    try {
      parsed = params.trim() ? (JSON.parse(params) as unknown) : undefined;
    } catch (error) {
      found['schedule-field-params'] = `not valid JSON: ${(error as Error).message}`;
    }
    let max: number | undefined;
    if (catchUp === 'all' && maxCatchUp.trim()) {
      max = Number(maxCatchUp.trim());
      if (!Number.isInteger(max) || max < 1) {
        found['schedule-field-max-catch-up'] = 'a whole number ≥ 1';
      }
    }
    // `datetime-local` is the browser's wall clock: sent as the instant it names.
    const instant = (text: string, key: string): string | undefined => {
      if (!text) return undefined;
      const at = new Date(text);
      if (Number.isNaN(at.getTime())) {
        found[key] = 'not a date and time';
        return undefined;
      }
      return at.toISOString();
    };
    const startAt = instant(start, 'schedule-field-start');
    const endAt = instant(end, 'schedule-field-end');
    if (startAt && endAt && endAt <= startAt) found['schedule-field-end'] = 'must be after start';
    setErrors(found);
    if (Object.keys(found).length) return null;
    return {
      name: name.trim(),
      target,
      ...(when === 'cron' ? { cron: expression } : { every: expression }),
      ...(when === 'cron' && timezone.trim() ? { timezone: timezone.trim() } : {}),
      ...(parsed !== undefined ? { params: parsed } : {}),
      catchUp,
      ...(max !== undefined ? { maxCatchUp: max } : {}),
      overlap,
      ...(startAt ? { start: startAt } : {}),
      ...(endAt ? { end: endAt } : {}),
      ...(jitter.trim() ? { jitter: jitter.trim() } : {}),
    };
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitError(null);
    const body = read();
    if (!body) return;
    setBusy(true);
    try {
      const { schedule } = await client.createSchedule(body);
      onCreated(schedule);
    } catch (error) {
      const uiError = toUiError(error);
      if (uiError.kind === 'unauthorized') requireSignIn();
      setSubmitError(uiError);
      setBusy(false);
    }
  };

  const edited = (key: string) => setErrors(({ [key]: _gone, ...rest }) => rest);
  const invalid = (key: string) => (errors[key] !== undefined ? true : undefined);

  return (
    <form className="form" data-testid="schedule-form" onSubmit={(e) => void submit(e)} noValidate>
      <div className="form-row">
        <Field id="schedule-field-name" name="name" required error={errors['schedule-field-name']}>
          <input
            id="schedule-field-name"
            data-testid="schedule-field-name"
            value={name}
            placeholder="nightly-report"
            autoComplete="off"
            aria-invalid={invalid('schedule-field-name')}
            onChange={(e) => {
              setName(e.target.value);
              edited('schedule-field-name');
            }}
          />
        </Field>
        <Field
          id="schedule-field-target"
          name="starts"
          hint="pipeline or workflow"
          required
          error={
            errors['schedule-field-target'] ??
            (definitions.status === 'error' ? definitions.error.message : undefined)
          }
        >
          <select
            id="schedule-field-target"
            data-testid="schedule-field-target"
            value={target}
            disabled={definitions.status !== 'ready'}
            aria-invalid={invalid('schedule-field-target')}
            onChange={(e) => chooseTarget(e.target.value)}
          >
            <option value="">{definitions.status === 'loading' ? 'loading…' : 'choose…'}</option>
            {list.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name} ({d.kind})
              </option>
            ))}
          </select>
        </Field>
      </div>

      <fieldset className="form-group">
        <legend>When</legend>
        <div className="segmented" role="radiogroup" aria-label="Fires at">
          {(['cron', 'every'] as const).map((kind) => (
            <label
              key={kind}
              className={when === kind ? 'segment selected' : 'segment'}
              data-testid={`schedule-when-${kind}`}
              data-selected={String(when === kind)}
            >
              <input
                type="radio"
                name="schedule-when"
                value={kind}
                checked={when === kind}
                onChange={() => setWhen(kind)}
              />
              {kind === 'cron' ? 'Cron expression' : 'Interval'}
            </label>
          ))}
        </div>
        {when === 'cron' ? (
          <div className="form-row">
            <Field
              id="schedule-field-cron"
              name="cron"
              hint="min hour day month weekday"
              required
              error={errors['schedule-field-cron']}
              help={
                <>
                  5 fields, or 6 with seconds first; <code>@daily</code> and the like.
                </>
              }
            >
              <input
                id="schedule-field-cron"
                data-testid="schedule-field-cron"
                className="mono"
                value={cron}
                placeholder="30 2 * * *"
                autoComplete="off"
                spellCheck={false}
                aria-invalid={invalid('schedule-field-cron')}
                onChange={(e) => {
                  setCron(e.target.value);
                  edited('schedule-field-cron');
                }}
              />
            </Field>
            <Field
              id="schedule-field-timezone"
              name="time zone"
              hint="IANA"
              help="The cron expression is read in it."
            >
              <input
                id="schedule-field-timezone"
                data-testid="schedule-field-timezone"
                list="schedule-timezones"
                value={timezone}
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => setTimezone(e.target.value)}
              />
              <datalist id="schedule-timezones">
                {zones.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </Field>
          </div>
        ) : (
          <Field
            id="schedule-field-every"
            name="every"
            hint="30s, 15m, 1h, 1d"
            required
            error={errors['schedule-field-every']}
            help="A fixed interval (at least 1 s), counted from the epoch; time zones do not apply."
          >
            <input
              id="schedule-field-every"
              data-testid="schedule-field-every"
              className="mono"
              value={every}
              placeholder="15m"
              autoComplete="off"
              spellCheck={false}
              aria-invalid={invalid('schedule-field-every')}
              onChange={(e) => {
                setEvery(e.target.value);
                edited('schedule-field-every');
              }}
            />
          </Field>
        )}
      </fieldset>

      <Field
        id="schedule-field-params"
        name="params"
        hint="JSON"
        error={errors['schedule-field-params']}
        help="Each run's params (a workflow's input), checked against the target's schema."
      >
        <textarea
          id="schedule-field-params"
          data-testid="schedule-field-params"
          className="mono"
          rows={4}
          spellCheck={false}
          value={params}
          aria-invalid={invalid('schedule-field-params')}
          onChange={(e) => {
            setParams(e.target.value);
            setParamsEdited(true);
            edited('schedule-field-params');
          }}
        />
      </Field>

      <div className="form-row">
        <Field
          id="schedule-field-catch-up"
          name="catch-up"
          help="Ticks missed while no scheduler ran."
          error={errors['schedule-field-max-catch-up']}
        >
          <select
            id="schedule-field-catch-up"
            data-testid="schedule-field-catch-up"
            value={catchUp}
            onChange={(e) => setCatchUp(e.target.value as CatchUp)}
          >
            {CATCH_UPS.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
          {catchUp === 'all' && (
            <input
              id="schedule-field-max-catch-up"
              data-testid="schedule-field-max-catch-up"
              aria-label="at most this many missed ticks"
              placeholder="at most 100 (the latest)"
              inputMode="numeric"
              value={maxCatchUp}
              aria-invalid={invalid('schedule-field-max-catch-up')}
              onChange={(e) => {
                setMaxCatchUp(e.target.value);
                edited('schedule-field-max-catch-up');
              }}
            />
          )}
        </Field>
        <Field
          id="schedule-field-overlap"
          name="overlap"
          help="A tick while the previous run is unfinished."
        >
          <select
            id="schedule-field-overlap"
            data-testid="schedule-field-overlap"
            value={overlap}
            onChange={(e) => setOverlap(e.target.value as Overlap)}
          >
            {OVERLAPS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </Field>
      </div>

      <details className="form-advanced" open={Boolean(start || end || jitter) || undefined}>
        <summary>Start, end and jitter</summary>
        <div className="form-row three">
          <Field
            id="schedule-field-start"
            name="start"
            hint="this browser's time"
            error={errors['schedule-field-start']}
            help="No tick before it."
          >
            <input
              id="schedule-field-start"
              data-testid="schedule-field-start"
              type="datetime-local"
              value={start}
              aria-invalid={invalid('schedule-field-start')}
              onChange={(e) => {
                setStart(e.target.value);
                edited('schedule-field-start');
                edited('schedule-field-end');
              }}
            />
          </Field>
          <Field
            id="schedule-field-end"
            name="end"
            hint="this browser's time"
            error={errors['schedule-field-end']}
            help="No tick at or after it."
          >
            <input
              id="schedule-field-end"
              data-testid="schedule-field-end"
              type="datetime-local"
              value={end}
              aria-invalid={invalid('schedule-field-end')}
              onChange={(e) => {
                setEnd(e.target.value);
                edited('schedule-field-end');
              }}
            />
          </Field>
          <Field
            id="schedule-field-jitter"
            name="jitter"
            hint="30s, 5m"
            help="Each tick's run starts up to this long after it, spreading load."
          >
            <input
              id="schedule-field-jitter"
              data-testid="schedule-field-jitter"
              className="mono"
              value={jitter}
              placeholder="0"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => setJitter(e.target.value)}
            />
          </Field>
        </div>
      </details>

      {submitError && <ScheduleError error={submitError} />}
      <div className="form-actions">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={busy} data-testid="schedule-submit">
          Create schedule
        </Button>
      </div>
    </form>
  );
}
