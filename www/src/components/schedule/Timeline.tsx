// The by-location/resource schedule: one lane per resource for one day, events placed at
// their times (stacked when they overlap). Lanes are windowed like list rows.
import { useCallback, useMemo } from 'react';
import type { FestivalEvent, Resource } from 'p2panda';
import { href } from '../../lib/route';
import { timelineLanes } from '../../lib/schedule';
import { formatTime } from '../../lib/time';
import { VirtualList } from '../VirtualList';

const ITEM_HEIGHT = 30;
const LANE_PADDING = 10;
const HOURS = [0, 3, 6, 9, 12, 15, 18, 21];
const KIND = { location: 'location', item: 'item', skill: 'skill', none: '' } as const;

interface Props {
  events: FestivalEvent[];
  resources: Resource[];
  festival: string;
  day: string;
  onlyResources: string[];
}

export function Timeline({ events, resources, festival, day, onlyResources }: Props) {
  const lanes = useMemo(() => timelineLanes(events, resources, day, onlyResources), [events, resources, day, onlyResources]);
  const height = useCallback((i: number) => lanes[i].rows * ITEM_HEIGHT + LANE_PADDING, [lanes]);
  const key = useCallback((i: number) => lanes[i].resource || 'none', [lanes]);
  const render = (i: number) => {
    const lane = lanes[i];
    return (
      <div className="lane" data-testid="timeline-lane" data-resource={lane.resource} data-kind={lane.kind}>
        <div className="lane-name">
          {lane.resource ? (
            <a href={href({ page: 'resource', festival, resource: lane.resource })}>{lane.name}</a>
          ) : (
            <span className="muted">{lane.name}</span>
          )}
          <span className="muted small"> {KIND[lane.kind]}</span>
        </div>
        <div className="lane-track">
          {lane.items.map((item) => (
            <a
              key={item.event.id}
              href={href({ page: 'event', festival, event: item.event.id })}
              className={`lane-item status-${item.event.cancelled ? 'cancelled' : item.status}`}
              style={{ left: `${item.left * 100}%`, width: `max(${item.width * 100}%, 4px)`, top: item.row * ITEM_HEIGHT + 4 }}
              title={`${formatTime(item.event.start)}–${formatTime(item.event.end)} ${item.event.title} (${item.event.cancelled ? 'cancelled' : item.status})`}
              data-testid="timeline-event"
              data-event={item.event.id}
              data-status={item.event.cancelled ? 'cancelled' : item.status}
            >
              {item.event.title}
            </a>
          ))}
        </div>
      </div>
    );
  };
  return (
    <div className="timeline" data-testid="timeline">
      <div className="timeline-axis" aria-hidden="true">
        <div className="lane-name" />
        <div className="lane-track">
          {HOURS.map((h) => (
            <span key={h} style={{ left: `${(h / 24) * 100}%` }}>
              {String(h).padStart(2, '0')}:00
            </span>
          ))}
        </div>
      </div>
      {lanes.length === 0 ? (
        <p className="muted" data-testid="timeline-empty">No resources or events for this day.</p>
      ) : (
        <VirtualList count={lanes.length} rowHeight={height} rowKey={key} renderRow={render} layoutKey={lanes} label="Resources and their events" testid="timeline-lanes" />
      )}
    </div>
  );
}
