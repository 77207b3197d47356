/**
 * The sign-in form, shown when the server answers 401: it asks for the bearer token the server
 * was started with (`weft server --token`) and keeps it in localStorage.
 */
import { useState, type FormEvent } from 'react';
import { useApiContext } from '../api/client.js';
import { Button } from '../components/Button.js';
import { Dialog } from '../components/Dialog.js';

export function SignIn() {
  const { signInRequired, hasToken, signIn } = useApiContext();
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) signIn(token.trim());
  };
  return (
    <Dialog
      open={signInRequired}
      title="Sign in to this Weft server"
      onClose={() => {}}
      dismissable={false}
      testId="sign-in"
    >
      <form className="form" onSubmit={submit} data-testid="sign-in-form">
        <p className="muted">
          {hasToken
            ? 'The server refused the stored token. '
            : 'This server requires a bearer token. '}
          Use the token it was started with (<code>--token</code> or <code>WEFT_TOKEN</code>); it is
          kept in this browser only.
        </p>
        <div className="form-field">
          <label htmlFor="sign-in-token">
            <span className="field-name">token</span>
          </label>
          <input
            id="sign-in-token"
            data-testid="sign-in-token"
            type="password"
            autoComplete="current-password"
            autoFocus
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </div>
        <div className="form-actions">
          <Button
            type="submit"
            variant="primary"
            data-testid="sign-in-submit"
            disabled={!token.trim()}
          >
            Sign in
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
