/** The navigation column: the sections, the server's health and the theme toggle. */
import { useEffect } from 'react';
import { useApiContext } from '../api/client.js';
import { useApi } from '../api/use-api.js';
import { Link, useLocation } from '../router.js';
import { useTheme } from '../theme.js';

const SECTIONS = [
  { to: '/catalog', label: 'Catalog', testId: 'nav-catalog', icon: '◇', match: ['/', '/catalog'] },
  { to: '/runs', label: 'Runs', testId: 'nav-runs', icon: '▶', match: ['/runs'] },
  {
    to: '/schedules',
    label: 'Schedules',
    testId: 'nav-schedules',
    icon: '◷',
    match: ['/schedules'],
  },
  {
    to: '/backfills',
    label: 'Backfills',
    testId: 'nav-backfills',
    icon: '▦',
    match: ['/backfills'],
  },
  { to: '/workers', label: 'Workers', testId: 'nav-workers', icon: '⚙', match: ['/workers'] },
] as const;

function isCurrent(pathname: string, match: readonly string[]): boolean {
  return match.some((m) =>
    m === '/' ? pathname === '/' : pathname === m || pathname.startsWith(`${m}/`),
  );
}

function Health() {
  const health = useApi((client) => client.health(), []);
  const { reload } = health;
  useEffect(() => {
    const timer = setInterval(reload, 15_000);
    return () => clearInterval(timer);
  }, [reload]);
  const { state } = health;
  if (state.status === 'loading') {
    return <div className="health">connecting…</div>;
  }
  if (state.status === 'error') {
    return (
      <div className="health down" data-testid="health" data-ok="false" title={state.error.message}>
        <span className="health-dot" aria-hidden />
        {state.error.kind === 'unreachable' ? 'server unreachable' : 'server error'}
      </div>
    );
  }
  const { dialect, version, leader } = state.data;
  return (
    <div
      className="health"
      data-testid="health"
      data-ok="true"
      title={leader ? 'this server leads maintenance' : undefined}
    >
      <span className="health-dot" aria-hidden />
      <span>
        weft {version} · {dialect}
        {leader ? ' · leader' : ''}
      </span>
    </div>
  );
}

export function Sidebar() {
  const { pathname } = useLocation();
  const [theme, toggleTheme] = useTheme();
  const { hasToken, signOut } = useApiContext();
  return (
    <nav className="sidebar" aria-label="Main">
      <Link to="/catalog" className="brand">
        <span className="brand-mark" aria-hidden />
        weft
      </Link>
      <ul className="nav">
        {SECTIONS.map((s) => (
          <li key={s.to}>
            <Link
              to={s.to}
              data-testid={s.testId}
              className={isCurrent(pathname, s.match) ? 'nav-link active' : 'nav-link'}
              aria-current={isCurrent(pathname, s.match) ? 'page' : undefined}
            >
              <span className="nav-icon" aria-hidden>
                {s.icon}
              </span>
              {s.label}
            </Link>
          </li>
        ))}
      </ul>
      <div className="sidebar-foot">
        <Health />
        <div className="sidebar-actions">
          <button
            type="button"
            className="chip"
            data-testid="theme-toggle"
            onClick={toggleTheme}
            title={`Switch to the ${theme === 'dark' ? 'light' : 'dark'} theme`}
          >
            {theme === 'dark' ? '☀ light' : '☾ dark'}
          </button>
          {hasToken && (
            <button
              type="button"
              className="chip"
              onClick={signOut}
              title="Forget the stored token"
            >
              sign out
            </button>
          )}
        </div>
      </div>
    </nav>
  );
}
