// Opening an invite link: join the festival (with its key, for a private one), then show it (as
// "waiting for peers" until its data arrives from someone who has it). A link that doesn't
// parse says why instead.
import { useEffect } from 'react';
import { href } from '../lib/route';
import { inviteErrorText, type InviteError } from '../lib/invite';
import { useAction } from '../hooks/useAction';
import { useNode } from '../node/NodeContext';
import { useFestivals } from '../node/FestivalsContext';
import { ActionError } from '../components/Field';
import { LockIcon } from '../components/KindBadge';

export function Join({ festival, festivalKey }: { festival: string; festivalKey: string | null }) {
  const node = useNode();
  const festivals = useFestivals();
  const join = useAction(async () => {
    await node.joinFestival(festival, festivalKey ?? undefined);
    festivals.refresh();
    // Replace, so "back" from the festival doesn't join again, and the key leaves the address
    // bar and the history.
    location.replace(href({ page: 'festival', festival, tab: 'schedule' }));
  });
  const run = join.run;
  useEffect(() => {
    void run();
  }, [run]);

  return (
    <section className="card narrow" data-testid="join-screen" data-private={festivalKey ? 'true' : 'false'}>
      <h1>Joining festival</h1>
      <p className="muted"><code className="break">{festival}</code></p>
      {festivalKey && (
        <p>
          <LockIcon /> This link carries the festival’s key: it is private, and this browser will be able to read it.
        </p>
      )}
      {join.error ? (
        <>
          <ActionError error={join.error} testid="join-error" />
          <div className="actions">
            <button type="button" onClick={() => void run()} data-testid="join-retry">Try again</button>
            <a className="button" href={href({ page: 'home' })}>Back</a>
          </div>
        </>
      ) : (
        <p aria-busy="true">Joining…</p>
      )}
    </section>
  );
}

/** A `#/join/…` address that isn't a usable invite (cut short when copied, most often). */
export function BadInvite({ error }: { error: InviteError }) {
  return (
    <section className="card narrow" data-testid="join-invalid" data-error={error}>
      <h1>This invite link doesn’t work</h1>
      <p className="error-text" role="alert">{inviteErrorText(error)}</p>
      <p>
        <a href={href({ page: 'home' })}>Go to your festivals</a>, where you can paste a link.
      </p>
    </section>
  );
}
