import { href } from '../../lib/route';
import { useFestival } from '../../node/FestivalScope';
import { ScheduleView } from '../../components/schedule/ScheduleView';

export function ScheduleTab() {
  const { id } = useFestival();
  return (
    <section className="card card-fill">
      <div className="row-between">
        <h2>Schedule</h2>
        <a className="button primary" href={href({ page: 'event-new', festival: id })} data-testid="event-new">
          New event
        </a>
      </div>
      <ScheduleView />
    </section>
  );
}
