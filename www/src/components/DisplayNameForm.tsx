// Pick the name others see. It is stored locally and published to every joined festival.
import { useState, type FormEvent } from 'react';
import { validateDisplayName } from '../lib/validation';
import { useApp } from '../node/NodeContext';
import { Field } from './Field';

export function DisplayNameForm({ onSaved }: { onSaved?: () => void }) {
  const { displayName, setDisplayName } = useApp();
  const [name, setName] = useState(displayName);
  const [error, setError] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateDisplayName(name);
    if (!result.ok) {
      setError(result.errors.name);
      return;
    }
    setError(undefined);
    setDisplayName(result.value);
    setSaved(true);
    onSaved?.();
  };

  return (
    <form className="inline-form" onSubmit={submit} noValidate data-testid="name-form">
      <Field label="Display name" error={error} testid="name-input" hint="Shown to everyone in festivals you join.">
        <input
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            setSaved(false);
          }}
          autoComplete="nickname"
          maxLength={200}
        />
      </Field>
      <button type="submit" data-testid="name-save">
        Save name
      </button>
      {saved && (
        <span className="ok-text" role="status" data-testid="name-saved">
          Saved
        </span>
      )}
    </form>
  );
}
