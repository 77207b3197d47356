/**
 * A modal dialog (the native `<dialog>`: focus trapping and Escape come with it), and a
 * confirmation built on it for destructive actions.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { Button } from './Button.js';

export function Dialog({
  open,
  title,
  onClose,
  children,
  wide,
  testId,
  dismissable = true,
}: {
  open: boolean;
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  testId?: string;
  /** False for a dialog that must be answered (sign-in): no close button, Escape ignored. */
  dismissable?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={wide ? 'dialog wide' : 'dialog'}
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        if (dismissable) onClose();
      }}
      data-testid={testId}
    >
      {open && (
        <>
          <header className="dialog-header">
            <h2>{title}</h2>
            {dismissable && (
              <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
                ×
              </button>
            )}
          </header>
          <div className="dialog-body">{children}</div>
        </>
      )}
    </dialog>
  );
}

export function ConfirmDialog({
  open,
  title,
  message,
  confirmLabel,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog open={open} title={title} onClose={onClose} testId="confirm-dialog">
      <p>{message}</p>
      <div className="dialog-actions">
        <Button onClick={onClose}>Keep it</Button>
        <Button
          variant="danger"
          data-testid="confirm-accept"
          onClick={() => {
            onConfirm();
            onClose();
          }}
        >
          {confirmLabel}
        </Button>
      </div>
    </Dialog>
  );
}
