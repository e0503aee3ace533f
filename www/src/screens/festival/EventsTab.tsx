// Events this user created, with how confirmed each one is.
import { href } from '../../lib/route';
import { useFestival } from '../../node/FestivalScope';
import { useNode } from '../../node/NodeContext';
import { ScheduleView } from '../../components/schedule/ScheduleView';

export function EventsTab() {
  const node = useNode();
  const { id } = useFestival();
  return (
    <section className="card card-fill" data-testid="my-events">
      <div className="row-between">
        <h2>My events</h2>
        <a className="button primary" href={href({ page: 'event-new', festival: id })} data-testid="event-new-mine">
          New event
        </a>
      </div>
      <ScheduleView creator={node.publicKey} />
    </section>
  );
}
