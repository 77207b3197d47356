import type { HTMLAttributes, ReactNode } from 'react';

type PanelProps = Omit<HTMLAttributes<HTMLElement>, 'title'> & {
  title?: ReactNode;
  actions?: ReactNode;
  /** No inner padding: for tables and graphs that reach the panel's edges. */
  flush?: boolean;
  children: ReactNode;
};

export function Panel({ title, actions, flush, className, children, ...rest }: PanelProps) {
  return (
    <section className={['panel', className ?? ''].filter(Boolean).join(' ')} {...rest}>
      {(title || actions) && (
        <header className="panel-header">
          <h2 className="panel-title">{title}</h2>
          {actions && <div className="panel-actions">{actions}</div>}
        </header>
      )}
      <div className={flush ? 'panel-body flush' : 'panel-body'}>{children}</div>
    </section>
  );
}

/** A label and its value, in the header of a detail page. */
export function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function Facts({ children }: { children: ReactNode }) {
  return <dl className="facts">{children}</dl>;
}
