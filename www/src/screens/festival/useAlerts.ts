// What needs attention in a festival: double bookings, forked logs and rejected operations,
// and requests waiting for us. Shared by the tab bar badges, the banner and the problems tab.
import type { Conflict, Request } from 'p2panda';
import { problems as loadProblems, isUnavailable, type Problem } from '../../node/api';
import { useLiveQuery } from '../../node/useLiveQuery';

export interface Alerts {
  conflicts: Conflict[];
  problems: Problem[];
  /** This build of the package can't report problems (older than the API addition). */
  problemsUnavailable: boolean;
  inbox: Request[];
  error: unknown;
}

export function useAlerts(festival: string, ready: boolean): Alerts {
  const live = useLiveQuery(
    festival,
    async (node) => {
      if (!ready) return { conflicts: [], problems: [], problemsUnavailable: false, inbox: [] };
      const [conflicts, inbox, problems] = await Promise.all([
        node.conflicts(festival),
        node.pendingRequests(festival),
        loadProblems(node, festival).then(
          (list) => ({ list, unavailable: false }),
          (error: unknown) => {
            if (isUnavailable(error)) return { list: [] as Problem[], unavailable: true };
            throw error;
          },
        ),
      ]);
      return { conflicts, inbox, problems: problems.list, problemsUnavailable: problems.unavailable };
    },
    [festival, ready],
  );
  return {
    conflicts: live.data?.conflicts ?? [],
    problems: live.data?.problems ?? [],
    problemsUnavailable: live.data?.problemsUnavailable ?? false,
    inbox: live.data?.inbox ?? [],
    error: live.error,
  };
}
