/**
 * Sends an event (`POST /api/events`), prefilled with what a parked run waits for: this is how
 * a person approves a waiting workflow from the UI.
 */
import { useState, type FormEvent } from 'react';
import type { SendEventResponse, WaitInfo } from '../../../../src/client/index.js';
import { useApiContext } from '../../api/client.js';
import { toUiError, type UiError } from '../../api/errors.js';
import { Button } from '../../components/Button.js';
import { InlineError } from '../../components/States.js';

function initialPayload(wait: WaitInfo | null): string {
  if (wait?.kind === 'event' && wait.match) return JSON.stringify(wait.match, null, 2);
  return '{}';
}

export function SendEventForm({
  wait,
  onSent,
}: {
  wait: WaitInfo | null;
  onSent: (answer: SendEventResponse) => void;
}) {
  const { client, requireSignIn } = useApiContext();
  const eventWait = wait?.kind === 'event' ? wait : null;
  const [type, setType] = useState(eventWait?.event ?? '');
  const [key, setKey] = useState(eventWait?.key ?? '');
  const [payload, setPayload] = useState(() => initialPayload(wait));
  const [payloadError, setPayloadError] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [sent, setSent] = useState<SendEventResponse | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSent(null);
    let value: unknown = null;
    if (payload.trim()) {
      try {
        value = JSON.parse(payload);
      } catch (e) {
        setPayloadError(`not valid JSON: ${(e as Error).message}`);
        return;
      }
    }
    setPayloadError(null);
    setBusy(true);
    try {
      const answer = await client.sendEvent({
        type: type.trim(),
        ...(key.trim() ? { key: key.trim() } : {}),
        payload: value,
      });
      setSent(answer);
      onSent(answer);
    } catch (e) {
      const uiError = toUiError(e);
      if (uiError.kind === 'unauthorized') requireSignIn();
      setError(uiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form compact" data-testid="send-event-form" onSubmit={(e) => void submit(e)}>
      <div className="form-row">
        <div className="form-field">
          <label htmlFor="event-type">
            <span className="field-name">type</span>
            <span className="required">*</span>
          </label>
          <input
            id="event-type"
            data-testid="event-type"
            required
            value={type}
            onChange={(e) => setType(e.target.value)}
          />
        </div>
        <div className="form-field">
          <label htmlFor="event-key">
            <span className="field-name">key</span>
          </label>
          <input
            id="event-key"
            data-testid="event-key"
            value={key}
            onChange={(e) => setKey(e.target.value)}
          />
        </div>
      </div>
      <div className="form-field">
        <label htmlFor="event-payload">
          <span className="field-name">payload</span>
          <span className="field-hint">JSON</span>
        </label>
        <textarea
          id="event-payload"
          data-testid="event-payload"
          className="mono"
          rows={4}
          spellCheck={false}
          value={payload}
          onChange={(e) => setPayload(e.target.value)}
        />
        {payloadError && <p className="field-error">{payloadError}</p>}
      </div>
      <InlineError error={error} testId="send-event-error" />
      {sent && (
        <div className="notice success" data-testid="send-event-result">
          Event {sent.created ? 'sent' : 'already sent (same idempotency key)'}; woke{' '}
          {sent.woken.length} run{sent.woken.length === 1 ? '' : 's'}.
        </div>
      )}
      <div className="form-actions">
        <Button
          type="submit"
          variant="primary"
          busy={busy}
          disabled={!type.trim()}
          data-testid="send-event-submit"
        >
          Send event
        </Button>
      </div>
    </form>
  );
}
