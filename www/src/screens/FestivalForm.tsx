// Create a festival, a sub-festival (inside a parent) or a fork (a copy to take elsewhere).
import { useEffect, useState, type FormEvent } from 'react';
import { validateFestival, type Errors, type FestivalInput } from '../lib/validation';
import { href } from '../lib/route';
import { navigate } from '../hooks/useRoute';
import { useAction } from '../hooks/useAction';
import { useNode } from '../node/NodeContext';
import { useFestivals } from '../node/FestivalsContext';
import { ActionError, Field } from '../components/Field';

export type FestivalFormMode = { kind: 'new' } | { kind: 'sub'; parent: string } | { kind: 'fork'; source: string };

export function FestivalForm({ mode }: { mode: FestivalFormMode }) {
  const node = useNode();
  const festivals = useFestivals();
  const related = mode.kind === 'sub' ? mode.parent : mode.kind === 'fork' ? mode.source : null;
  const relatedName = festivals.list.find((f) => f.id === related)?.name;
  const relatedDescription = festivals.list.find((f) => f.id === related)?.description ?? '';
  const [input, setInput] = useState<FestivalInput>({ name: '', description: '' });
  const [errors, setErrors] = useState<Errors<keyof FestivalInput>>({});

  // A fork starts with the source's name and description, to be changed.
  useEffect(() => {
    if (mode.kind === 'fork' && relatedName)
      setInput((i) => (i.name ? i : { name: `${relatedName} (fork)`, description: i.description || relatedDescription }));
  }, [mode.kind, relatedName, relatedDescription]);

  const save = useAction(async (value: FestivalInput) => {
    const id =
      mode.kind === 'fork'
        ? await node.forkFestival(mode.source, value)
        : await node.createFestival({ ...value, ...(mode.kind === 'sub' ? { parent: mode.parent } : {}) });
    festivals.refresh();
    navigate({ page: 'festival', festival: id, tab: 'schedule' });
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateFestival(input);
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    void save.run(result.value);
  };

  const title = mode.kind === 'new' ? 'New festival' : mode.kind === 'sub' ? 'New sub-festival' : 'Fork festival';
  const back = related ? href({ page: 'festival', festival: related, tab: 'about' }) : href({ page: 'home' });
  return (
    <section className="card narrow">
      <h1>{title}</h1>
      {mode.kind === 'sub' && <p>Inside <strong>{relatedName ?? related}</strong>: it shares the parent’s people and resources.</p>}
      {mode.kind === 'fork' && (
        <p>
          A fork copies <strong>{relatedName ?? related}</strong> as it is now into a new festival you can change on your own.
          Later changes to the original don’t reach the fork.
        </p>
      )}
      <form onSubmit={submit} noValidate data-testid="festival-form">
        <Field label="Name" error={errors.name} testid="festival-name">
          <input value={input.name} onChange={(e) => setInput({ ...input, name: e.target.value })} autoFocus />
        </Field>
        <Field label="Description (optional)" error={errors.description} testid="festival-description">
          <textarea rows={3} value={input.description} onChange={(e) => setInput({ ...input, description: e.target.value })} />
        </Field>
        <ActionError error={save.error} testid="festival-form-error" />
        <div className="actions">
          <button type="submit" className="primary" disabled={save.busy} data-testid="festival-submit">
            {save.busy ? 'Saving…' : mode.kind === 'fork' ? 'Fork' : 'Create'}
          </button>
          <a className="button" href={back} data-testid="festival-cancel">
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}
