import { Link } from '../router.js';

export function NotFoundPage({ what }: { what: string }) {
  return (
    <div className="page">
      <div className="not-found" data-testid="not-found">
        <div className="not-found-code">404</div>
        <h1>Not found</h1>
        <p className="muted">{what}</p>
        <p>
          <Link to="/runs">Runs</Link> · <Link to="/catalog">Catalog</Link>
        </p>
      </div>
    </div>
  );
}
