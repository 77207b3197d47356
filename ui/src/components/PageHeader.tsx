import type { ReactNode } from 'react';

export function PageHeader({
  title,
  kicker,
  subtitle,
  actions,
  children,
}: {
  title: ReactNode;
  /** A small line above the title: the section, a breadcrumb. */
  kicker?: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  children?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div className="page-header-row">
        <div className="page-header-text">
          {kicker && <div className="kicker">{kicker}</div>}
          <h1>{title}</h1>
          {subtitle && <div className="subtitle">{subtitle}</div>}
        </div>
        {actions && <div className="page-actions">{actions}</div>}
      </div>
      {children}
    </header>
  );
}
