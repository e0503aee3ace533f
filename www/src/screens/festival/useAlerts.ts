// What needs attention in a festival: double bookings, forked logs and rejected operations,
// and requests waiting for us. Shared by the tab bar badges, the banner and the problems tab.
import type { Conflict, Request } from 'p2panda';
import type { Problem } from '../../node/api';
import { useLiveQuery } from '../../node/useLiveQuery';

export interface Alerts {
  conflicts: Conflict[];
  problems: Problem[];
  inbox: Request[];
  error: unknown;
}

export function useAlerts(festival: string, ready: boolean): Alerts {
  const live = useLiveQuery(
    festival,
    async (node) => {
      if (!ready) return { conflicts: [], problems: [], inbox: [] };
      const [conflicts, inbox, problems] = await Promise.all([
        node.conflicts(festival),
        node.pendingRequests(festival),
        node.problems(festival),
      ]);
      return { conflicts, inbox, problems };
    },
    [festival, ready],
  );
  return {
    conflicts: live.data?.conflicts ?? [],
    problems: live.data?.problems ?? [],
    inbox: live.data?.inbox ?? [],
    error: live.error,
  };
}
