// One event: when, what, and the state of each requested resource (pending / granted /
// denied with the owner's reason), how much is confirmed; edit and cancel for its creator;
// confirm / deny right here for the owner of a requested resource.
import { href } from '../lib/route';
import { summarize } from '../lib/eventStatus';
import { formatRange } from '../lib/time';
import { useFestival } from '../node/FestivalScope';
import { useNode } from '../node/NodeContext';
import { useLiveQuery } from '../node/useLiveQuery';
import { errorText } from '../node/api';
import { useAction } from '../hooks/useAction';
import { ActionError } from '../components/Field';
import { ConfirmAction } from '../components/ConfirmAction';
import { Person } from '../components/Person';
import { RequestCard } from '../components/RequestCard';

const STATUS_LABEL = { pending: 'pending', granted: 'granted', denied: 'denied', resourceDeleted: 'resource deleted' } as const;

export function EventPage({ event: eventId }: { event: string }) {
  const node = useNode();
  const { id, resourceById, nameOf } = useFestival();
  const live = useLiveQuery(
    id,
    async (n) => {
      const [event, conflicts, requests] = await Promise.all([n.event(id, eventId), n.conflicts(id), n.pendingRequests(id)]);
      return {
        event,
        conflicts: conflicts.filter((c) => c.first === eventId || c.second === eventId),
        myRequests: requests.filter((r) => r.event === eventId),
      };
    },
    [id, eventId],
  );
  const cancel = useAction(async () => {
    await node.cancelEvent(id, eventId);
    live.refresh();
  });

  if (live.data === undefined)
    return live.error ? <p className="error-text" role="alert">{errorText(live.error)}</p> : <p aria-busy="true">Loading event…</p>;
  const { event, conflicts, myRequests } = live.data;
  if (!event)
    return (
      <section className="card" data-testid="event-missing">
        <p>This event isn’t known here (yet). It may still be on its way from a peer.</p>
      </section>
    );
  const summary = summarize(event);
  const mine = event.creator === node.publicKey;
  return (
    <div className="stack">
      <section className="card" data-testid="event-page" data-event={event.id}>
        <a className="small" href={href({ page: 'festival', festival: id, tab: 'schedule' })}>
          ← Schedule
        </a>
        <h2 data-testid="event-title" className={event.cancelled ? 'strike' : undefined}>
          {event.title}
        </h2>
        <p data-testid="event-time">{formatRange(event.start, event.end)}</p>
        {event.description && <p data-testid="event-description">{event.description}</p>}
        <p>
          By <Person author={event.creator} name={nameOf(event.creator)} />
        </p>
        <div className={`status-box state-${summary.state}`} data-testid="event-status" data-state={summary.state}>
          <strong>{summary.label}</strong>
          {summary.total > 0 && !event.cancelled && (
            <div className="confirmed">
              <progress max={100} value={summary.percent} aria-label="Confirmed share" data-testid="event-confirmed" data-percent={summary.percent} />
              <span>{summary.percent}% confirmed</span>
            </div>
          )}
        </div>
        {conflicts.length > 0 && (
          <p className="banner banner-bad" role="alert" data-testid="event-conflict">
            Double-booked: a resource of this event was also granted to an overlapping event.{' '}
            <a href={href({ page: 'festival', festival: id, tab: 'problems' })}>Details</a>
          </p>
        )}
        <h3>Requested resources</h3>
        {event.resources.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul className="plain status-list">
            {event.resources.map((r) => {
              const resource = resourceById.get(r.resource);
              return (
                <li key={r.resource} data-testid="event-resource-status" data-resource={r.resource} data-status={r.status}>
                  <span className={`badge status-${r.status}`}>{STATUS_LABEL[r.status]}</span>{' '}
                  <a href={href({ page: 'resource', festival: id, resource: r.resource })}>{resource?.name ?? 'Unknown resource'}</a>
                  {resource && (
                    <span className="muted small">
                      {' '}
                      · owner {nameOf(resource.owner)}
                    </span>
                  )}
                  {r.status === 'denied' && r.reason && (
                    <div className="small" data-testid="event-resource-reason">
                      Reason: {r.reason}
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
        )}
        {mine && !event.cancelled && (
          <div className="actions">
            <a className="button" href={href({ page: 'event-edit', festival: id, event: event.id })} data-testid="event-edit">
              Edit
            </a>
            <ConfirmAction
              action={cancel}
              label="Cancel event"
              question="Cancel this event? Its bookings are released."
              testid="event-cancel"
              keepTestid="event-cancel-keep"
            />
          </div>
        )}
        <ActionError error={cancel.error} testid="event-cancel-error" />
      </section>
      {myRequests.length > 0 && (
        <section className="card" data-testid="event-owner-requests">
          <h3>Waiting for your answer</h3>
          {myRequests.map((r) => (
            <RequestCard key={`${r.event}-${r.resource}`} request={r} compact />
          ))}
        </section>
      )}
    </div>
  );
}
