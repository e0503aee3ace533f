// A festival joined by link whose data hasn't arrived: say so, show sync state, allow leaving.
import { useFestival } from '../../node/FestivalScope';
import { useNode } from '../../node/NodeContext';
import { useSync } from '../../node/SyncContext';
import { PeerList } from '../../components/PeerList';
import { InviteBox } from '../../components/InviteBox';
import { LeaveButton } from './LeaveButton';
import { MailboxCard } from '../../components/MailboxCard';

export function PendingFestival() {
  const node = useNode();
  const { id, festival, nameOf } = useFestival();
  const { view } = useSync();
  return (
    <div className="stack" data-testid="festival-pending-screen" data-festival={id}>
      <section className="card">
        <h1>
          {view.syncing ? 'Receiving the festival…' : 'Waiting for peers'}{' '}
          <span className="badge badge-wait" data-testid="festival-pending">waiting for peers</span>
        </h1>
        <p>
          {view.syncing
            ? `A peer is sending its plans: ${view.missing} entries to go. It shows up here as soon as it arrives.`
            : 'You joined this festival. Its plans arrive as soon as someone who has them is online at the same time (the person who invited you, for example). Keep this page open.'}
        </p>
        <p className="muted small"><code className="break">{id}</code></p>
        {!festival?.private && (
          // Without a key a private festival never opens here: say what helps.
          <p className="small" data-testid="pending-no-key">
            If this festival is private and your link had no key, it can’t open in this browser. Ask the organiser for a
            new invite link, or send them your public key so they can add you:{' '}
            <code className="break" data-testid="pending-my-key">{node.publicKey}</code>
          </p>
        )}
        <InviteBox festival={id} />
        <LeaveButton />
      </section>
      {/* Or it comes from a mailbox the organisers use, without anyone online. */}
      <MailboxCard festival={id} />
      <PeerList nameOf={nameOf} />
    </div>
  );
}
