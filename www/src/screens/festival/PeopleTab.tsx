// Who is in the festival (published names) and who is connected right now. In a private
// festival its creator can remove people (a new key for everyone else) and add them by key.
import { useState, type FormEvent } from 'react';
import { useNames } from '../../node/names';
import { useFestival } from '../../node/FestivalScope';
import { useFestivals } from '../../node/FestivalsContext';
import { Avatar } from '../../components/Avatar';
import { PeerList } from '../../components/PeerList';
import { ConfirmAction } from '../../components/ConfirmAction';
import { ActionError, Field } from '../../components/Field';
import { shortKey } from '../../lib/avatar';
import { href } from '../../lib/route';
import { managesMembers, rootOf, validateMemberKey } from '../../lib/privacy';
import { useAction } from '../../hooks/useAction';
import { useNode } from '../../node/NodeContext';

export function PeopleTab() {
  const node = useNode();
  const { id, festival, nameOf } = useFestival();
  const festivals = useFestivals();
  const { profiles } = useNames(id);
  // Sub-festivals share their root's key: its creator manages the members of all of them.
  const root = rootOf(festivals.list, id);
  const manage = managesMembers(root, node.publicKey);
  // Removed in this session. The node has no member list to ask, so after a reload the action
  // shows again (running it again only rotates the key once more).
  const [removed, setRemoved] = useState<ReadonlySet<string>>(new Set());
  const authors = [...new Set([festival?.creator, node.publicKey, ...profiles.map((p) => p.author)].filter((a): a is string => !!a))];
  return (
    <div className="stack">
      <section className="card" data-testid="people">
        <h2>People</h2>
        {root?.private && (
          <p className="muted small" data-testid="people-private-note">
            {manage
              ? 'This festival is private. Removing someone gives everyone else who has written here a new key; they keep what they could read before.'
              : 'This festival is private. Only its organiser can add or remove people.'}
          </p>
        )}
        <ul className="plain people">
          {authors.map((author) => (
            <li key={author} className="peer" data-testid="person-item" data-author={author}>
              <Avatar publicKey={author} size={36} />
              <div>
                <strong>{nameOf(author)}</strong>
                {author === node.publicKey && <span className="muted"> (you)</span>}
                {author === festival?.creator && <span className="badge">organiser</span>}
                <div className="muted small">
                  <code>{shortKey(author)}…{author.slice(-4)}</code>
                </div>
                {manage &&
                  author !== node.publicKey &&
                  (removed.has(author) ? (
                    <p className="small" role="status" data-testid="member-removed">
                      Removed: they won’t read anything new. People who only read need the{' '}
                      <a href={href({ page: 'festival', festival: id, tab: 'about' })}>new invite link</a>.
                    </p>
                  ) : (
                    <RemoveMember
                      festival={id}
                      member={author}
                      name={nameOf(author)}
                      onRemoved={() => setRemoved((old) => new Set(old).add(author))}
                    />
                  ))}
              </div>
            </li>
          ))}
        </ul>
      </section>
      {manage && (
        <AddMember
          festival={id}
          onAdded={(member) =>
            setRemoved((old) => {
              const next = new Set(old);
              next.delete(member);
              return next;
            })
          }
        />
      )}
      <PeerList nameOf={nameOf} />
    </div>
  );
}

function RemoveMember({ festival, member, name, onRemoved }: { festival: string; member: string; name: string; onRemoved: () => void }) {
  const node = useNode();
  const remove = useAction(async () => {
    await node.removeMember(festival, member);
    onRemoved();
  });
  return (
    <div className="member-actions" data-testid="member-actions" data-author={member}>
      <ConfirmAction
        action={remove}
        label="Remove from festival"
        question={`Remove ${name}? They keep what they could read before; they won’t read anything new. People who only read need a new invite link.`}
        testid="member-remove"
      />
      <ActionError error={remove.error} testid="member-remove-error" />
    </div>
  );
}

/** Seal the festival's key to someone who joined without it (an old link, or after a removal). */
function AddMember({ festival, onAdded }: { festival: string; onAdded: (member: string) => void }) {
  const node = useNode();
  const { nameOf } = useFestival();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [added, setAdded] = useState<string | null>(null);
  const add = useAction(async (member: string) => {
    await node.addMember(festival, member);
    setAdded(member);
    setText('');
    onAdded(member);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateMemberKey(text, node.publicKey);
    if (!result.ok) return setError(result.errors.key);
    setError(undefined);
    setAdded(null);
    void add.run(result.value);
  };
  return (
    <section className="card" data-testid="member-add">
      <h2>Add by public key</h2>
      <p className="muted small">
        For someone who joined without the key (their festival keeps “waiting for peers”): they find their public key on
        their Settings page. Their app opens the festival once it receives the key from a peer.
      </p>
      <form className="inline-form" onSubmit={submit} noValidate>
        <Field label="Their public key" error={error} testid="member-add-input">
          <input value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" spellCheck={false} placeholder="64 characters 0–9, a–f" />
        </Field>
        <button type="submit" disabled={add.busy} data-testid="member-add-submit">
          Add
        </button>
      </form>
      <ActionError error={add.error} testid="member-add-error" />
      {added && (
        <p className="ok-text" role="status" data-testid="member-added">
          Added {nameOf(added)}: the key is on its way to them.
        </p>
      )}
    </section>
  );
}
