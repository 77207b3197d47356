/**
 * Light and dark themes: the `<html data-theme>` attribute picks the CSS variables. The first
 * choice follows `prefers-color-scheme` (index.html applies it before the app loads); a toggle
 * is remembered in localStorage.
 */
import { useCallback, useState } from 'react';

export type Theme = 'light' | 'dark';
const KEY = 'weft.theme';

function current(): Theme {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(current);
  const toggle = useCallback(() => {
    const next: Theme = current() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // Without storage the choice lasts for this page only.
    }
    setTheme(next);
  }, []);
  return [theme, toggle];
}
