// The by-day schedule: day headers and event rows in a windowed list.
import { useCallback, useMemo } from 'react';
import type { FestivalEvent } from 'p2panda';
import { groupByDay } from '../../lib/schedule';
import { formatDay } from '../../lib/time';
import { VirtualList } from '../VirtualList';
import { EventRow } from './EventRow';

export const DAY_HEADER_HEIGHT = 40;
export const EVENT_ROW_HEIGHT = 60;

interface Props {
  events: FestivalEvent[];
  festival: string;
  filterDay: string;
  resourceNames: ReadonlyMap<string, string>;
  testid?: string;
}

export function DayList({ events, festival, filterDay, resourceNames, testid = 'schedule-list' }: Props) {
  const rows = useMemo(() => groupByDay(events, filterDay), [events, filterDay]);
  const height = useCallback((i: number) => (rows[i].type === 'day' ? DAY_HEADER_HEIGHT : EVENT_ROW_HEIGHT), [rows]);
  const key = useCallback((i: number) => {
    const row = rows[i];
    return row.type === 'day' ? `d-${row.key}` : `e-${row.day}-${row.event.id}`;
  }, [rows]);
  const render = (i: number) => {
    const row = rows[i];
    if (row.type === 'day')
      return (
        <h3 className="day-header" data-testid="schedule-day" data-day={row.key}>
          {formatDay(row.key)} <span className="muted small">{row.count} event{row.count === 1 ? '' : 's'}</span>
        </h3>
      );
    return <EventRow event={row.event} festival={festival} resourceNames={resourceNames} />;
  };
  return (
    <VirtualList
      count={rows.length}
      rowHeight={height}
      rowKey={key}
      renderRow={render}
      layoutKey={rows}
      label="Events by day"
      testid={testid}
    />
  );
}
