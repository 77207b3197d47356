/** The shell: navigation, the server's health, the theme, sign-in, and the page for the URL. */
import { useEffect } from 'react';
import { ApiProvider } from './api/client.js';
import { SignIn } from './shell/SignIn.js';
import { Sidebar } from './shell/Sidebar.js';
import { BackfillDetailPage } from './pages/BackfillDetailPage.js';
import { BackfillsPage } from './pages/BackfillsPage.js';
import { CatalogPage } from './pages/CatalogPage.js';
import { DefinitionPage } from './pages/DefinitionPage.js';
import { GraphBenchPage } from './pages/GraphBenchPage.js';
import { NotFoundPage } from './pages/NotFoundPage.js';
import { RunDetailPage } from './pages/run/RunDetailPage.js';
import { RunsPage } from './pages/RunsPage.js';
import { SchedulesPage } from './pages/SchedulesPage.js';
import { WorkersPage } from './pages/WorkersPage.js';
import { matchPath, useLocation } from './router.js';

/** The tab's title: the section, and the run or definition shown. */
function titleOf(pathname: string): string {
  const [section, item] = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const name =
    section === 'runs'
      ? 'Runs'
      : section === 'workers'
        ? 'Workers'
        : section === 'schedules'
          ? 'Schedules'
          : section === 'backfills'
            ? 'Backfills'
            : 'Catalog';
  return `${item ? `${item} · ` : ''}${name} · Weft`;
}

function Page() {
  const { pathname } = useLocation();
  useEffect(() => {
    document.title = titleOf(pathname);
  }, [pathname]);
  if (pathname === '/' || pathname === '/catalog') return <CatalogPage />;
  let params = matchPath('/catalog/:name', pathname);
  if (params) return <DefinitionPage key={params.name} name={params.name!} />;
  if (pathname === '/runs') return <RunsPage />;
  params = matchPath('/runs/:id', pathname);
  if (params) return <RunDetailPage key={params.id} id={params.id!} />;
  if (pathname === '/schedules') return <SchedulesPage />;
  if (pathname === '/backfills') return <BackfillsPage />;
  params = matchPath('/backfills/:id', pathname);
  if (params) return <BackfillDetailPage key={params.id} id={params.id!} />;
  if (pathname === '/workers') return <WorkersPage />;
  if (pathname === '/__bench/graph') return <GraphBenchPage />;
  return <NotFoundPage what={`No page at ${pathname}.`} />;
}

export function App() {
  return (
    <ApiProvider>
      <div className="shell">
        <Sidebar />
        <main className="main">
          <Page />
        </main>
      </div>
      <SignIn />
    </ApiProvider>
  );
}
