// Requests waiting for this user's answer (resources with manual confirmation), oldest first.
import { useCallback, useMemo } from 'react';
import type { Conflict, Request } from 'p2panda';
import { href } from '../../lib/route';
import { useFestival } from '../../node/FestivalScope';
import { useNode } from '../../node/NodeContext';
import { RequestCard } from '../../components/RequestCard';
import { VirtualList } from '../../components/VirtualList';

// Cards have a fixed height (windowed list); narrow screens wrap more lines.
const cardHeight = () => (typeof matchMedia !== 'undefined' && matchMedia('(max-width: 600px)').matches ? 236 : 176);

export function InboxTab({ requests, conflicts }: { requests: Request[]; conflicts: Conflict[] }) {
  const node = useNode();
  const { id, resourceById } = useFestival();
  const sorted = useMemo(() => [...requests].sort((a, b) => a.start - b.start || a.event.localeCompare(b.event)), [requests]);
  const mine = conflicts.filter((c) => resourceById.get(c.resource)?.owner === node.publicKey);
  const key = useCallback((i: number) => `${sorted[i].event}-${sorted[i].resource}`, [sorted]);
  return (
    <section className="card card-fill" data-testid="inbox">
      <h2>
        Inbox <span className="count" data-testid="inbox-count">{sorted.length}</span>
      </h2>
      <p className="muted small">
        Requests for your resources that wait for you. Resources set to first come, first served are answered
        automatically while this app is open.
      </p>
      {mine.length > 0 && (
        <p className="banner banner-bad" role="alert" data-testid="inbox-conflicts">
          You granted overlapping events on {mine.length} occasion{mine.length === 1 ? '' : 's'}.{' '}
          <a href={href({ page: 'festival', festival: id, tab: 'problems' })}>See the double bookings</a>.
        </p>
      )}
      {sorted.length === 0 ? (
        <p data-testid="inbox-empty">Nothing waiting for you.</p>
      ) : (
        <VirtualList
          count={sorted.length}
          rowHeight={cardHeight}
          rowKey={key}
          layoutKey={sorted}
          renderRow={(i) => <RequestCard request={sorted[i]} />}
          label="Requests waiting for you"
          testid="inbox-list"
        />
      )}
    </section>
  );
}
