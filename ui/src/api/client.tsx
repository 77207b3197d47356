/**
 * The one API client of the UI: the typed client of `src/client`, on the page's own origin,
 * with the stored bearer token. A 401 anywhere raises the sign-in form; signing in makes a new
 * client, and every `useApi` that depends on it loads again.
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { createClient, type WeftClient } from '../../../src/client/index.js';
import { loadToken, saveToken } from './token.js';

export type { WeftClient };

interface ApiContextValue {
  client: WeftClient;
  /** Whether the sign-in form is asked for (the server answered 401). */
  signInRequired: boolean;
  hasToken: boolean;
  requireSignIn: () => void;
  signIn: (token: string) => void;
  signOut: () => void;
}

const ApiContext = createContext<ApiContextValue | null>(null);

export function ApiProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState(loadToken);
  const [signInRequired, setSignInRequired] = useState(false);
  const client = useMemo(() => createClient({ baseUrl: '', ...(token ? { token } : {}) }), [token]);
  const requireSignIn = useCallback(() => setSignInRequired(true), []);
  const signIn = useCallback((next: string) => {
    saveToken(next);
    setToken(next);
    setSignInRequired(false);
  }, []);
  const signOut = useCallback(() => {
    saveToken(undefined);
    setToken(undefined);
  }, []);
  const value = useMemo(
    () => ({
      client,
      signInRequired,
      hasToken: token !== undefined,
      requireSignIn,
      signIn,
      signOut,
    }),
    [client, signInRequired, token, requireSignIn, signIn, signOut],
  );
  return <ApiContext.Provider value={value}>{children}</ApiContext.Provider>;
}

export function useApiContext(): ApiContextValue {
  const value = useContext(ApiContext);
  if (!value) throw new Error('useApiContext outside <ApiProvider>');
  return value;
}

export function useClient(): WeftClient {
  return useApiContext().client;
}
