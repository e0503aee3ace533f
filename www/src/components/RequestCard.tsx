// One request for one of our resources: what, when, who, whether granting would double-book,
// and confirm / deny (with an optional reason).
import { useState, type FormEvent } from 'react';
import type { Request } from 'p2panda';
import { availability } from '../lib/availability';
import { href } from '../lib/route';
import { formatRange } from '../lib/time';
import { validateReason } from '../lib/validation';
import { useLiveQuery } from '../node/useLiveQuery';
import { useFestival } from '../node/FestivalScope';
import { useNode } from '../node/NodeContext';
import { useAction } from '../hooks/useAction';
import { ActionError } from './Field';
import { Person } from './Person';

export function RequestCard({ request, compact = false }: { request: Request; compact?: boolean }) {
  const node = useNode();
  const { id, resourceNames, nameOf } = useFestival();
  const details = useLiveQuery(
    id,
    async (n) => {
      const [event, bookings] = await Promise.all([
        n.event(id, request.event),
        n.resourceTimeline(id, request.resource, request.start, request.end),
      ]);
      const clash = availability(bookings, request, request.event);
      // Name the (first few) events it would clash with.
      const others = await Promise.all(clash.overlapping.slice(0, 3).map((b) => n.event(id, b.event)));
      return { event, clash, clashTitles: others.map((e) => e?.title ?? '?') };
    },
    [id, request.event, request.resource, request.start, request.end],
  );
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | undefined>();
  const answer = useAction((decision: 'grant' | 'deny', why?: string) =>
    node.authorize(id, {
      event: request.event,
      resource: request.resource,
      eventVersion: request.eventVersion,
      decision,
      ...(why ? { reason: why } : {}),
    }),
  );

  const deny = (e: FormEvent) => {
    e.preventDefault();
    const result = validateReason(reason);
    if (!result.ok) return setReasonError(result.errors.reason);
    setReasonError(undefined);
    void answer.run('deny', result.value || undefined);
  };

  const event = details.data?.event;
  const clash = details.data?.clash;
  const clashTitles = details.data?.clashTitles.join(', ') ?? '';
  return (
    <article className={`request${compact ? ' compact' : ''}`} data-testid="inbox-item" data-event={request.event} data-resource={request.resource}>
      <div className="request-head">
        <a href={href({ page: 'event', festival: id, event: request.event })} className="request-title">
          {event?.title ?? 'Event…'}
        </a>
        <span className="muted small"> asks for </span>
        <a href={href({ page: 'resource', festival: id, resource: request.resource })}>{resourceNames.get(request.resource) ?? 'a resource'}</a>
      </div>
      <div className="muted small">
        {formatRange(request.start, request.end)}
        {event && (
          <>
            {' · by '}
            <Person author={event.creator} name={nameOf(event.creator)} />
          </>
        )}
      </div>
      {clash?.state === 'booked' && (
        <div className="warn small" role="note" data-testid="inbox-clash">
          Granting this double-books: already granted to {clash.overlapping.length} overlapping event
          {clash.overlapping.length === 1 ? '' : 's'}: {clashTitles}
          {clash.overlapping.length > 3 ? ', …' : ''}.
        </div>
      )}
      <form className="request-actions" onSubmit={deny} noValidate>
        <button type="button" className="primary" disabled={answer.busy} onClick={() => void answer.run('grant')} data-testid="inbox-confirm">
          Confirm
        </button>
        <input
          aria-label="Reason for denying (optional)"
          placeholder="Reason (optional)"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          aria-invalid={reasonError ? true : undefined}
          data-testid="inbox-reason"
        />
        <button type="submit" className="danger-outline" disabled={answer.busy} data-testid="inbox-deny">
          Deny
        </button>
      </form>
      {reasonError && (
        <small className="error-text" role="alert" data-testid="inbox-reason-error">
          {reasonError}
        </small>
      )}
      <ActionError error={answer.error} testid="inbox-error" />
    </article>
  );
}
