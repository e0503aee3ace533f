// A labelled form control with an inline error message tied to it for screen readers.
import { cloneElement, isValidElement, useId, type ReactElement, type ReactNode } from 'react';

interface Props {
  label: ReactNode;
  error?: string;
  hint?: ReactNode;
  /** The error's data-testid is `${testid}-error`. */
  testid: string;
  children: ReactElement<Record<string, unknown>>;
}

export function Field({ label, error, hint, testid, children }: Props) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const described = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  const control = isValidElement(children)
    ? cloneElement(children, {
        id,
        'data-testid': testid,
        'aria-invalid': error ? true : undefined,
        'aria-describedby': described,
      })
    : children;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {control}
      {hint && (
        <small id={hintId} className="muted">
          {hint}
        </small>
      )}
      {error && (
        <small id={errorId} className="error-text" role="alert" data-testid={`${testid}-error`}>
          {error}
        </small>
      )}
    </div>
  );
}

/** An error from an action (the node refused, or failed), shown at a form's submit button. */
export function ActionError({ error, testid }: { error: string | null; testid: string }) {
  if (!error) return null;
  return (
    <p className="error-text" role="alert" data-testid={testid}>
      {error}
    </p>
  );
}
