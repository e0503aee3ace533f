// A destructive action behind one confirmation: its button, then the question with a confirm and
// a keep button. Test ids: `<testid>`, `<testid>-confirm` and `keepTestid`.
import { useState, type ReactNode } from 'react';
import type { Action } from '../hooks/useAction';

interface Props {
  action: Action<[]>;
  /** The first button's text, and the confirm button's. */
  label: string;
  question: ReactNode;
  keepLabel?: string;
  testid: string;
  keepTestid?: string;
}

export function ConfirmAction({ action, label, question, keepLabel = 'Keep', testid, keepTestid = `${testid}-cancel` }: Props) {
  const [confirming, setConfirming] = useState(false);
  const confirm = async () => {
    if (await action.run()) setConfirming(false);
  };
  if (!confirming)
    return (
      <button type="button" className="danger-outline" onClick={() => setConfirming(true)} data-testid={testid}>
        {label}
      </button>
    );
  return (
    <>
      <span>{question}</span>
      <button type="button" className="danger" disabled={action.busy} onClick={() => void confirm()} data-testid={`${testid}-confirm`}>
        {label}
      </button>
      <button type="button" onClick={() => setConfirming(false)} data-testid={keepTestid}>
        {keepLabel}
      </button>
    </>
  );
}
