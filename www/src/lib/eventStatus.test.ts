import { describe, expect, it } from 'vitest';
import { policyLabel, summarize } from './eventStatus';

const r = (status: 'pending' | 'granted' | 'denied' | 'resourceDeleted') => ({ resource: status, status }) as never;

describe('summarize', () => {
  it('names each state', () => {
    expect(summarize({ cancelled: true, confirmed: 1, resources: [r('granted')] }).state).toBe('cancelled');
    expect(summarize({ cancelled: false, confirmed: 1, resources: [] }).state).toBe('open');
    expect(summarize({ cancelled: false, confirmed: 1, resources: [r('granted'), r('granted')] })).toMatchObject({ state: 'confirmed', percent: 100 });
    expect(summarize({ cancelled: false, confirmed: 0, resources: [r('pending')] })).toMatchObject({ state: 'pending', label: 'Waiting for the owner' });
    expect(summarize({ cancelled: false, confirmed: 0.5, resources: [r('granted'), r('pending')] })).toMatchObject({ state: 'partial', percent: 50, label: '1 of 2 granted, 1 pending' });
    expect(summarize({ cancelled: false, confirmed: 0.5, resources: [r('granted'), r('denied')] })).toMatchObject({ state: 'partial', denied: 1 });
    expect(summarize({ cancelled: false, confirmed: 0, resources: [r('denied'), r('resourceDeleted')] }).state).toBe('denied');
  });

  it('labels policies', () => {
    expect(policyLabel('fcfs')).toMatch(/first served/);
    expect(policyLabel({ custom: 'weekends' })).toBe('Custom: weekends');
  });
});
