// The start screen: pick a name (first visit), the joined festivals with their sub-festivals,
// and joining by a pasted invite link.
import { useState, type FormEvent } from 'react';
import type { Festival } from 'p2panda';
import { useFestivals } from '../node/FestivalsContext';
import { useApp } from '../node/NodeContext';
import { href } from '../lib/route';
import { inviteErrorText, parseInvite } from '../lib/invite';
import { navigate } from '../hooks/useRoute';
import { DisplayNameForm } from '../components/DisplayNameForm';
import { Field } from '../components/Field';
import { KindBadge } from '../components/KindBadge';
import { compareNames } from '../lib/sort';

/** Joined festivals as roots, each with the sub-festivals known locally beneath it. */
function festivalTree(list: readonly Festival[]): { festival: Festival; depth: number }[] {
  const byId = new Map(list.map((f) => [f.id, f]));
  const visible = (f: Festival): boolean => f.joined || (f.parent !== null && !!byId.get(f.parent) && visible(byId.get(f.parent)!));
  const out: { festival: Festival; depth: number }[] = [];
  const walk = (f: Festival, depth: number) => {
    out.push({ festival: f, depth });
    for (const sub of f.subFestivals) {
      const child = byId.get(sub);
      if (child && depth < 8) walk(child, depth + 1);
    }
  };
  const roots = list
    .filter((f) => visible(f) && (f.parent === null || !byId.has(f.parent)))
    .sort((a, b) => (a.pending === b.pending ? compareNames(a.name, b.name) : a.pending ? 1 : -1));
  roots.forEach((f) => walk(f, 0));
  return out;
}

export function Home() {
  const { displayName } = useApp();
  const festivals = useFestivals();
  const tree = festivalTree(festivals.list);
  return (
    <div className="stack">
      {!displayName && (
        <section className="card welcome" data-testid="welcome">
          <h1>Welcome</h1>
          <p>
            Plan festivals together, without a server: everything lives in this browser and syncs directly with the
            people you invite. A key pair was made for you just now. Pick a name others will see.
          </p>
          <DisplayNameForm />
        </section>
      )}
      <section className="card">
        <div className="row-between">
          <h1>Your festivals</h1>
          <a className="button primary" href={href({ page: 'festival-new' })} data-testid="festival-new">
            New festival
          </a>
        </div>
        {!festivals.loaded ? (
          <p aria-busy="true">Loading…</p>
        ) : tree.length === 0 ? (
          <p data-testid="festival-list-empty">No festivals yet. Create one, or open an invite link someone sent you.</p>
        ) : (
          <ul className="festival-list plain" data-testid="festival-list">
            {tree.map(({ festival, depth }) => (
              <li key={festival.id} style={{ paddingLeft: `${depth * 1.25}rem` }} data-testid="festival-item" data-festival={festival.id}>
                <a href={href({ page: 'festival', festival: festival.id, tab: 'schedule' })} data-testid="festival-link">
                  {depth > 0 && <span aria-hidden="true">↳ </span>}
                  {festival.pending ? <em>Joining {festival.id.slice(0, 10)}…</em> : festival.name}
                </a>
                <KindBadge festival={festival} />{' '}
                {festival.pending && (
                  <span className="badge badge-wait" data-testid="festival-pending">
                    waiting for peers
                  </span>
                )}
                {festival.forkOf && <span className="badge">fork</span>}
                {festival.description && <div className="muted small clamp">{festival.description}</div>}
              </li>
            ))}
          </ul>
        )}
      </section>
      <JoinForm />
    </div>
  );
}

function JoinForm() {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseInvite(text);
    if (!parsed.ok) {
      setError(inviteErrorText(parsed.error));
      return;
    }
    navigate({ page: 'join', festival: parsed.invite.festival, key: parsed.invite.key });
  };
  return (
    <section className="card">
      <h2>Join a festival</h2>
      <form className="inline-form" onSubmit={submit} noValidate>
        <Field label="Invite link or festival id" error={error} testid="join-input">
          <input value={text} onChange={(e) => setText(e.target.value)} placeholder="http://…#/join/…" autoComplete="off" />
        </Field>
        <button type="submit" data-testid="join-submit">
          Join
        </button>
      </form>
    </section>
  );
}
