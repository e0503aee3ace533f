// One event in a list: time, title, where, and how confirmed it is.
import { memo } from 'react';
import type { FestivalEvent } from 'p2panda';
import { href } from '../../lib/route';
import { activeResources } from '../../lib/schedule';
import { summarize, type EventState } from '../../lib/eventStatus';
import { dayKey, formatTime } from '../../lib/time';

const BADGE: Partial<Record<EventState, string>> = {
  cancelled: 'cancelled',
  confirmed: 'confirmed',
  denied: 'denied',
  pending: 'pending',
  open: 'no requests',
};

interface Props {
  event: FestivalEvent;
  festival: string;
  resourceNames: ReadonlyMap<string, string>;
}

export const EventRow = memo(function EventRow({ event, festival, resourceNames }: Props) {
  const summary = summarize(event);
  const name = (id: string) => resourceNames.get(id) ?? '?';
  const active = activeResources(event);
  // With every request refused, still say what was asked for.
  const refused = event.resources.filter((r) => r.status === 'denied' || r.status === 'resourceDeleted');
  const where = active.length
    ? active.map(name).join(', ')
    : refused.length
      ? `refused: ${refused.map((r) => name(r.resource)).join(', ')}`
      : '';
  const multiDay = dayKey(event.start) !== dayKey(event.end - 1);
  return (
    <a
      className={`event-row state-${summary.state}`}
      href={href({ page: 'event', festival, event: event.id })}
      data-testid="schedule-event"
      data-event={event.id}
      data-status={summary.state}
    >
      <span className="event-time">
        {formatTime(event.start)}–{formatTime(event.end)}
        {multiDay && <span className="muted"> +{Math.round((event.end - event.start) / 86_400_000) || 1}d</span>}
      </span>
      <span className="event-main">
        <span className="event-title">{event.title}</span>
        <span className="event-where muted">{where || 'no resources'}</span>
      </span>
      <span className={`badge status-${summary.state}`} title={summary.label}>
        {BADGE[summary.state] ?? `${summary.percent}%`}
      </span>
    </a>
  );
});
