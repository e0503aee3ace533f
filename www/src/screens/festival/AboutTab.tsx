// Festival details: invite link, description (editable by its creator), sub-festivals, fork, leave.
import { useState, type FormEvent } from 'react';
import { href } from '../../lib/route';
import { validateFestival, type Errors, type FestivalInput } from '../../lib/validation';
import { useFestival } from '../../node/FestivalScope';
import { useFestivals } from '../../node/FestivalsContext';
import { useNode } from '../../node/NodeContext';
import { useAction } from '../../hooks/useAction';
import { ActionError, Field } from '../../components/Field';
import { InviteBox } from '../../components/InviteBox';
import { Person } from '../../components/Person';
import { LeaveButton } from './LeaveButton';
import { KindBadge } from '../../components/KindBadge';
import { MailboxCard } from '../../components/MailboxCard';

export function AboutTab() {
  const node = useNode();
  const { id, festival, nameOf } = useFestival();
  const festivals = useFestivals();
  const [editing, setEditing] = useState(false);
  if (!festival) return null;
  const subs = festival.subFestivals.map((sub) => festivals.list.find((f) => f.id === sub) ?? { id: sub, name: sub.slice(0, 10) + '…' });
  const source = festival.forkOf ? festivals.list.find((f) => f.id === festival.forkOf) : undefined;
  return (
    <div className="stack">
      <section className="card">
        <h2>Invite</h2>
        <InviteBox festival={id} />
      </section>
      <section className="card" data-testid="festival-about">
        <div className="row-between">
          <h2>About</h2>
          {festival.creator === node.publicKey && !editing && (
            <button type="button" onClick={() => setEditing(true)} data-testid="festival-edit">
              Edit
            </button>
          )}
        </div>
        {editing ? (
          <EditFestival onDone={() => setEditing(false)} />
        ) : (
          <>
            <p data-testid="festival-description-text">{festival.description || <span className="muted">No description.</span>}</p>
            <p>
              Created by <Person author={festival.creator} name={nameOf(festival.creator)} />
            </p>
            <p data-testid="festival-privacy" data-kind={festival.private ? 'private' : 'public'}>
              <KindBadge festival={festival} />{' '}
              {festival.private
                ? 'End-to-end encrypted: only people with the invite link can read it. Peers and servers that relay it see only ciphertext.'
                : 'Anyone with the invite link or the festival’s id can read it, and so can peers and servers that relay it.'}
            </p>
            {festival.forkOf && (
              <p data-testid="festival-fork-of">
                Fork of{' '}
                <a href={href({ page: 'festival', festival: festival.forkOf, tab: 'schedule' })}>{source?.name ?? festival.forkOf.slice(0, 10) + '…'}</a>
              </p>
            )}
            <p className="muted small">
              Id <code className="break">{id}</code>
            </p>
          </>
        )}
      </section>
      {/* A sub-festival travels with its parent: the root's mailbox carries it. */}
      {!festival.parent && <MailboxCard festival={id} />}
      <section className="card">
        <div className="row-between">
          <h2>Sub-festivals</h2>
          <a className="button" href={href({ page: 'festival-new', parent: id })} data-testid="subfestival-new">
            New sub-festival
          </a>
        </div>
        {subs.length === 0 ? (
          <p className="muted">None yet. A sub-festival (a stage programme, a workshop track) shares this festival’s people and resources.</p>
        ) : (
          <ul data-testid="subfestival-list">
            {subs.map((s) => (
              <li key={s.id} data-testid="subfestival-item">
                <a href={href({ page: 'festival', festival: s.id, tab: 'schedule' })}>{s.name}</a>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card">
        <h2>Fork or leave</h2>
        <p>Fork copies this festival into a new one you run separately (for next year, or a variant).</p>
        <div className="actions">
          <a className="button" href={href({ page: 'festival-fork', festival: id })} data-testid="festival-fork">
            Fork festival
          </a>
        </div>
        {festival.joined && <LeaveButton />}
      </section>
    </div>
  );
}

function EditFestival({ onDone }: { onDone: () => void }) {
  const node = useNode();
  const { id, festival, refresh } = useFestival();
  const festivals = useFestivals();
  const [input, setInput] = useState<FestivalInput>({ name: festival?.name ?? '', description: festival?.description ?? '' });
  const [errors, setErrors] = useState<Errors<keyof FestivalInput>>({});
  const save = useAction(async (value: FestivalInput) => {
    const changes: { name?: string; description?: string } = {};
    if (value.name !== festival?.name) changes.name = value.name;
    if (value.description !== festival?.description) changes.description = value.description;
    if (Object.keys(changes).length) await node.updateFestival(id, changes);
    refresh();
    festivals.refresh();
    onDone();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateFestival(input);
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    void save.run(result.value);
  };
  return (
    <form onSubmit={submit} noValidate data-testid="festival-edit-form">
      <Field label="Name" error={errors.name} testid="festival-name">
        <input value={input.name} onChange={(e) => setInput({ ...input, name: e.target.value })} />
      </Field>
      <Field label="Description" error={errors.description} testid="festival-description">
        <textarea rows={3} value={input.description} onChange={(e) => setInput({ ...input, description: e.target.value })} />
      </Field>
      <ActionError error={save.error} testid="festival-edit-error" />
      <div className="actions">
        <button type="submit" className="primary" disabled={save.busy} data-testid="festival-edit-save">
          Save
        </button>
        <button type="button" onClick={onDone} data-testid="festival-edit-cancel">
          Cancel
        </button>
      </div>
    </form>
  );
}
