// How confirmed an event is, in words and numbers, from the per-resource request states.
import type { FestivalEvent } from 'p2panda';

export type EventState = 'cancelled' | 'confirmed' | 'denied' | 'partial' | 'pending' | 'open';

export interface EventSummary {
  state: EventState;
  label: string;
  granted: number;
  pending: number;
  denied: number;
  /** Requests whose resource was deleted meanwhile. */
  gone: number;
  total: number;
  /** 0..100, the node's `confirmed` share. */
  percent: number;
}

export function summarize(event: Pick<FestivalEvent, 'cancelled' | 'confirmed' | 'resources'>): EventSummary {
  let granted = 0;
  let pending = 0;
  let denied = 0;
  let gone = 0;
  for (const r of event.resources) {
    if (r.status === 'granted') granted++;
    else if (r.status === 'pending') pending++;
    else if (r.status === 'denied') denied++;
    else gone++;
  }
  const total = event.resources.length;
  const percent = Math.round(event.confirmed * 100);
  const base = { granted, pending, denied, gone, total, percent };
  if (event.cancelled) return { ...base, state: 'cancelled', label: 'Cancelled' };
  if (total === 0) return { ...base, state: 'open', label: 'No resources requested' };
  if (granted === total) return { ...base, state: 'confirmed', label: 'Confirmed' };
  if (denied + gone === total) return { ...base, state: 'denied', label: 'Denied' };
  if (denied + gone > 0) return { ...base, state: 'partial', label: `${granted} of ${total} granted, ${denied + gone} refused` };
  if (granted > 0) return { ...base, state: 'partial', label: `${granted} of ${total} granted, ${pending} pending` };
  return { ...base, state: 'pending', label: `Waiting for ${pending === 1 ? 'the owner' : `${pending} owners`}` };
}

export function policyLabel(policy: unknown): string {
  if (policy === 'fcfs') return 'First come, first served';
  if (policy === 'manual') return 'Owner confirms by hand';
  if (policy && typeof policy === 'object' && 'custom' in policy) return `Custom: ${String((policy as { custom: unknown }).custom)}`;
  return 'Unknown policy';
}

export const KIND_LABEL = { location: 'Location', item: 'Item', skill: 'Skill' } as const;
