// Create a festival, a sub-festival (inside a parent) or a fork (a copy to take elsewhere).
import { useEffect, useState, type FormEvent } from 'react';
import type { Festival } from 'p2panda';
import { validateFestival, type Errors, type FestivalInput } from '../lib/validation';
import { href } from '../lib/route';
import { navigate } from '../hooks/useRoute';
import { useAction } from '../hooks/useAction';
import { useNode } from '../node/NodeContext';
import { useFestivals } from '../node/FestivalsContext';
import { ActionError, Field } from '../components/Field';
import { KindBadge } from '../components/KindBadge';

export type FestivalFormMode = { kind: 'new' } | { kind: 'sub'; parent: string } | { kind: 'fork'; source: string };

export function FestivalForm({ mode }: { mode: FestivalFormMode }) {
  const node = useNode();
  const festivals = useFestivals();
  const related = mode.kind === 'sub' ? mode.parent : mode.kind === 'fork' ? mode.source : null;
  const relatedFestival = festivals.list.find((f) => f.id === related);
  const relatedName = relatedFestival?.name;
  const relatedDescription = relatedFestival?.description ?? '';
  const [input, setInput] = useState<FestivalInput>({ name: '', description: '' });
  // Only a new root festival chooses; sub-festivals and forks take their source's kind.
  const [makePrivate, setMakePrivate] = useState(false);
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
        : await node.createFestival({
            ...value,
            ...(mode.kind === 'sub' ? { parent: mode.parent } : { private: makePrivate }),
          });
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
        {mode.kind === 'new' ? (
          <fieldset className="choices" data-testid="festival-kind-choice">
            <legend>Who can read it</legend>
            <label className="choice">
              <input type="radio" name="festival-kind" checked={!makePrivate} onChange={() => setMakePrivate(false)} data-testid="festival-public" />
              <span className="choice-text">
                Public
                <small className="muted">Anyone with the link or the festival’s id can read it, and so can peers and servers that relay it.</small>
              </span>
            </label>
            <label className="choice">
              <input type="radio" name="festival-kind" checked={makePrivate} onChange={() => setMakePrivate(true)} data-testid="festival-private" />
              <span className="choice-text">
                Private (end-to-end encrypted)
                <small className="muted">Only people with the invite link can read it; peers and servers that relay it see only ciphertext.</small>
              </span>
            </label>
          </fieldset>
        ) : (
          relatedFestival && <InheritedKind festival={relatedFestival} mode={mode.kind} />
        )}
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

/** A sub-festival or fork is the kind its source is: say which, instead of asking. */
function InheritedKind({ festival, mode }: { festival: Festival; mode: 'sub' | 'fork' }) {
  const text =
    mode === 'sub'
      ? festival.private
        ? 'Private like its parent: end-to-end encrypted, readable only by people with the festival’s invite link.'
        : 'Public like its parent.'
      : festival.private
        ? 'Private like the original: end-to-end encrypted, readable only by people with the fork’s own invite link.'
        : 'Public like the original.';
  return (
    <p data-testid="festival-kind-inherited" data-kind={festival.private ? 'private' : 'public'}>
      <KindBadge festival={festival} /> {text}
    </p>
  );
}
