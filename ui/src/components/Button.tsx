import type { ButtonHTMLAttributes, ReactNode } from 'react';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: ButtonVariant;
  size?: 'sm' | 'md';
  busy?: boolean;
  icon?: ReactNode;
};

export function Button({
  variant = 'secondary',
  size = 'md',
  busy = false,
  icon,
  className,
  children,
  disabled,
  type = 'button',
  ...rest
}: ButtonProps) {
  const classes = ['btn', `btn-${variant}`, `btn-${size}`, busy ? 'busy' : '', className ?? '']
    .filter(Boolean)
    .join(' ');
  return (
    <button type={type} className={classes} disabled={disabled || busy} {...rest}>
      {busy ? <span className="spinner" aria-hidden /> : icon}
      {children}
    </button>
  );
}

/**
 * Pause or resume, whichever applies: the `pause-<name>` / `resume-<name>` buttons of a list
 * of schedules or sensors (`testIdPrefix` `schedule` gives `schedule-pause-<name>`).
 */
export function PauseToggle({
  paused,
  name,
  testIdPrefix,
  busy,
  onChange,
}: {
  paused: boolean;
  name: string;
  testIdPrefix: string;
  busy: boolean;
  onChange: (paused: boolean) => void;
}) {
  return paused ? (
    <Button
      size="sm"
      data-testid={`${testIdPrefix}-resume-${name}`}
      busy={busy}
      onClick={() => onChange(false)}
    >
      ▶ Resume
    </Button>
  ) : (
    <Button
      size="sm"
      data-testid={`${testIdPrefix}-pause-${name}`}
      busy={busy}
      onClick={() => onChange(true)}
    >
      ❚❚ Pause
    </Button>
  );
}
