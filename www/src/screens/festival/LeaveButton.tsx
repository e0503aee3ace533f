// Leaving stops replicating a festival; ask once, since the local copy stops syncing.
import { useState } from 'react';
import { useNode } from '../../node/NodeContext';
import { useFestival } from '../../node/FestivalScope';
import { useFestivals } from '../../node/FestivalsContext';
import { useAction } from '../../hooks/useAction';
import { navigate } from '../../hooks/useRoute';
import { ActionError } from '../../components/Field';

export function LeaveButton() {
  const node = useNode();
  const { id } = useFestival();
  const festivals = useFestivals();
  const [confirming, setConfirming] = useState(false);
  const leave = useAction(async () => {
    await node.leaveFestival(id);
    festivals.refresh();
    navigate({ page: 'home' });
  });
  if (!confirming)
    return (
      <button type="button" className="danger-outline" onClick={() => setConfirming(true)} data-testid="festival-leave">
        Leave festival
      </button>
    );
  return (
    <div className="confirm" role="group" aria-label="Confirm leaving">
      <p>Leave this festival? You stop receiving its changes. Your own entries stay with the others.</p>
      <div className="actions">
        <button type="button" className="danger" disabled={leave.busy} onClick={() => void leave.run()} data-testid="festival-leave-confirm">
          Leave
        </button>
        <button type="button" onClick={() => setConfirming(false)} data-testid="festival-leave-cancel">
          Stay
        </button>
      </div>
      <ActionError error={leave.error} testid="festival-leave-error" />
    </div>
  );
}
