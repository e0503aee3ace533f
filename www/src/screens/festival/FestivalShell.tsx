// The frame of every screen inside a festival: title, tabs (with counts), the problems banner,
// and the routed content. A festival joined by link shows "waiting for peers" until it arrives.
import type { Route } from '../../lib/route';
import { href, type FestivalTab } from '../../lib/route';
import { useFestival } from '../../node/FestivalScope';
import { useFestivals } from '../../node/FestivalsContext';
import { errorText } from '../../node/api';
import { useAlerts } from './useAlerts';
import { ScheduleTab } from './ScheduleTab';
import { ResourcesTab } from './ResourcesTab';
import { EventsTab } from './EventsTab';
import { InboxTab } from './InboxTab';
import { PeopleTab } from './PeopleTab';
import { ProblemsTab } from './ProblemsTab';
import { AboutTab } from './AboutTab';
import { ResourcePage } from '../ResourcePage';
import { ResourceForm } from '../ResourceForm';
import { EventPage } from '../EventPage';
import { EventForm } from '../EventForm';
import { PendingFestival } from './PendingFestival';
import { KindBadge } from '../../components/KindBadge';

type FestivalRoute = Extract<Route, { festival: string }>;

const TAB_LABEL: Record<FestivalTab, string> = {
  schedule: 'Schedule',
  resources: 'Resources',
  events: 'My events',
  inbox: 'Inbox',
  people: 'People',
  problems: 'Problems',
  about: 'About & invite',
};

export function FestivalShell({ route }: { route: FestivalRoute }) {
  const { id, festival } = useFestival();
  const festivals = useFestivals();
  const known = festivals.list.find((f) => f.id === id);
  const ready = !!festival && !festival.pending;
  const alerts = useAlerts(id, ready);

  if (festival === undefined) return <p aria-busy="true">Loading…</p>;
  if (!ready) {
    if (known || festival) return <PendingFestival />;
    return (
      <section className="card" data-testid="festival-not-found">
        <h1>Festival not found</h1>
        <p>
          This browser hasn’t joined <code className="break">{id}</code>. If someone shared it with you, open their
          invite link, or <a href={href({ page: 'join', festival: id, key: null })} data-testid="festival-join-now">join it now</a>.
        </p>
      </section>
    );
  }

  const tab = route.page === 'festival' ? route.tab : null;
  const problemCount = alerts.conflicts.length + alerts.problems.length;
  const counts: Partial<Record<FestivalTab, number>> = { inbox: alerts.inbox.length, problems: problemCount };
  const parent = festival.parent ? festivals.list.find((f) => f.id === festival.parent) : undefined;

  return (
    <div className="festival" data-testid="festival-screen" data-festival={id}>
      <div className="festival-head">
        {festival.parent && (
          <a className="small" href={href({ page: 'festival', festival: festival.parent, tab: 'schedule' })} data-testid="festival-parent">
            ↑ {parent?.name ?? 'Parent festival'}
          </a>
        )}
        <div className="festival-title-row">
          <h1 data-testid="festival-title">{festival.name}</h1>
          <KindBadge festival={festival} />
        </div>
      </div>
      <nav className="tabs" aria-label="Festival sections">
        {(Object.keys(TAB_LABEL) as FestivalTab[]).map((t) => (
          <a
            key={t}
            href={href({ page: 'festival', festival: id, tab: t })}
            aria-current={tab === t ? 'page' : undefined}
            data-testid={`tab-${t}`}
          >
            {TAB_LABEL[t]}
            {!!counts[t] && (
              <span className={`count${t === 'problems' ? ' count-bad' : ''}`} data-testid={`tab-${t}-count`}>
                {counts[t]}
              </span>
            )}
          </a>
        ))}
      </nav>
      {problemCount > 0 && tab !== 'problems' && (
        <div className="banner banner-bad" role="alert" data-testid="problems-banner">
          {alerts.conflicts.length > 0 && `${alerts.conflicts.length} double booking${alerts.conflicts.length === 1 ? '' : 's'}`}
          {alerts.conflicts.length > 0 && alerts.problems.length > 0 && ', '}
          {alerts.problems.length > 0 && `${alerts.problems.length} data problem${alerts.problems.length === 1 ? '' : 's'}`}
          {' in this festival. '}
          <a href={href({ page: 'festival', festival: id, tab: 'problems' })}>See problems</a>
        </div>
      )}
      {alerts.error !== undefined && (
        <div className="banner banner-bad" role="alert" data-testid="alerts-error">
          Couldn’t check this festival for problems: {errorText(alerts.error)}
        </div>
      )}
      <Content route={route} alerts={alerts} />
    </div>
  );
}

function Content({ route, alerts }: { route: FestivalRoute; alerts: ReturnType<typeof useAlerts> }) {
  switch (route.page) {
    case 'festival':
      switch (route.tab) {
        case 'schedule':
          return <ScheduleTab />;
        case 'resources':
          return <ResourcesTab />;
        case 'events':
          return <EventsTab />;
        case 'inbox':
          return <InboxTab requests={alerts.inbox} conflicts={alerts.conflicts} />;
        case 'people':
          return <PeopleTab />;
        case 'problems':
          return <ProblemsTab alerts={alerts} />;
        case 'about':
          return <AboutTab />;
      }
      return null;
    case 'resource':
      return <ResourcePage key={route.resource} resource={route.resource} />;
    case 'resource-new':
      return <ResourceForm />;
    case 'resource-edit':
      return <ResourceForm key={route.resource} resource={route.resource} />;
    case 'event':
      return <EventPage key={route.event} event={route.event} />;
    case 'event-new':
      return <EventForm />;
    case 'event-edit':
      return <EventForm key={route.event} event={route.event} />;
    default:
      return null;
  }
}
