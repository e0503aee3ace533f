// Opening an invite link: join the festival, then show it (as "waiting for peers" until its
// data arrives from someone who has it).
import { useEffect } from 'react';
import { href } from '../lib/route';
import { useAction } from '../hooks/useAction';
import { useNode } from '../node/NodeContext';
import { useFestivals } from '../node/FestivalsContext';
import { ActionError } from '../components/Field';

export function Join({ festival }: { festival: string }) {
  const node = useNode();
  const festivals = useFestivals();
  const join = useAction(async () => {
    await node.joinFestival(festival);
    festivals.refresh();
    // Replace, so "back" from the festival doesn't join again.
    location.replace(href({ page: 'festival', festival, tab: 'schedule' }));
  });
  const run = join.run;
  useEffect(() => {
    void run();
  }, [run]);

  return (
    <section className="card narrow" data-testid="join-screen">
      <h1>Joining festival</h1>
      <p className="muted"><code className="break">{festival}</code></p>
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
