// Who is in the festival (published names) and who is connected right now.
import { useNames } from '../../node/names';
import { useFestival } from '../../node/FestivalScope';
import { Avatar } from '../../components/Avatar';
import { PeerList } from '../../components/PeerList';
import { shortKey } from '../../lib/avatar';
import { useNode } from '../../node/NodeContext';

export function PeopleTab() {
  const node = useNode();
  const { id, festival, nameOf } = useFestival();
  const { profiles } = useNames(id);
  const authors = [...new Set([festival?.creator, node.publicKey, ...profiles.map((p) => p.author)].filter((a): a is string => !!a))];
  return (
    <div className="stack">
      <section className="card" data-testid="people">
        <h2>People</h2>
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
              </div>
            </li>
          ))}
        </ul>
      </section>
      <PeerList nameOf={nameOf} />
    </div>
  );
}
