// Everything that went wrong, shown plainly: double bookings, forked logs, rejected operations,
// background errors.
import { href } from '../../lib/route';
import { useFestival } from '../../node/FestivalScope';
import { useLiveQuery } from '../../node/useLiveQuery';
import { ErrorLog } from '../../components/ErrorLog';
import { Person } from '../../components/Person';
import { formatRange } from '../../lib/time';
import type { Alerts } from './useAlerts';

export function ProblemsTab({ alerts }: { alerts: Alerts }) {
  const { id, resourceNames, resourceById, nameOf } = useFestival();
  const ids = [...new Set(alerts.conflicts.flatMap((c) => [c.first, c.second]))];
  const events = useLiveQuery(
    id,
    async (node) => new Map((await Promise.all(ids.map((e) => node.event(id, e)))).flatMap((e) => (e ? [[e.id, e] as const] : []))),
    [id, ids.join()],
  );
  const eventLink = (event: string) => {
    const e = events.data?.get(event);
    return (
      <a href={href({ page: 'event', festival: id, event })}>
        {e ? `${e.title} (${formatRange(e.start, e.end)})` : event.slice(0, 10) + '…'}
      </a>
    );
  };
  return (
    <div className="stack">
      <section className="card" data-testid="conflicts">
        <h2>
          Double bookings <span className={`count${alerts.conflicts.length ? ' count-bad' : ''}`} data-testid="conflict-count">{alerts.conflicts.length}</span>
        </h2>
        <p className="muted small">An owner granted two events that overlap on one resource. The owner should deny one.</p>
        {alerts.conflicts.length === 0 ? (
          <p>None.</p>
        ) : (
          <ul className="plain">
            {alerts.conflicts.map((c) => {
              const owner = resourceById.get(c.resource)?.owner;
              return (
                <li key={`${c.resource}-${c.first}-${c.second}`} className="problem" data-testid="conflict-item" data-resource={c.resource}>
                  <strong>
                    <a href={href({ page: 'resource', festival: id, resource: c.resource })}>{resourceNames.get(c.resource) ?? 'A resource'}</a>
                  </strong>{' '}
                  is granted to both {eventLink(c.first)} and {eventLink(c.second)}
                  {owner && (
                    <>
                      {' '}by <Person author={owner} name={nameOf(owner)} />
                    </>
                  )}
                  .
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section className="card" data-testid="data-problems">
        <h2>
          Data problems <span className={`count${alerts.problems.length ? ' count-bad' : ''}`} data-testid="problem-count">{alerts.problems.length}</span>
        </h2>
        {alerts.problems.length === 0 ? (
          <p>None: every log is linear and every operation was accepted.</p>
        ) : (
          <ul className="plain">
            {alerts.problems.map((p, i) => (
              <li key={i} className="problem" data-testid="problem-item" data-kind={p.kind}>
                {p.kind === 'fork' ? (
                  <>
                    <strong>Forked log.</strong> <Person author={p.author} name={nameOf(p.author)} /> signed two different
                    entries at position {p.seq}. Their log is frozen there: later changes from them in this festival are not
                    applied. (This happens when one key is used on two devices at once, or on purpose.)
                  </>
                ) : (
                  <>
                    <strong>Rejected change.</strong> An operation by <Person author={p.author} name={nameOf(p.author)} /> was
                    refused: {p.reason} <code className="small">{p.operation.slice(0, 12)}…</code>
                  </>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <ErrorLog />
    </div>
  );
}
