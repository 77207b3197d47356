/** The bearer token, kept in localStorage so a reload stays signed in. */
const KEY = 'weft.token';

export function loadToken(): string | undefined {
  try {
    return localStorage.getItem(KEY) || undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(token: string | undefined): void {
  try {
    if (token) localStorage.setItem(KEY, token);
    else localStorage.removeItem(KEY);
  } catch {
    // Private mode without storage: the token lasts until the page is closed.
  }
}
