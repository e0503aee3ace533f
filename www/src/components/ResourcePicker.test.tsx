import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { ResourcePicker } from './ResourcePicker';
import { resource } from '../test/fixtures';
import type { Availability } from '../lib/availability';

const barn = resource({ id: 'barn', name: 'Barn', policy: 'manual' });
const drill = resource({ id: 'drill', name: 'Drill', kind: { type: 'item' } });
const gone = resource({ id: 'gone', name: 'Old shed', deleted: true });

const byResource = new Map<string, Availability>([
  ['barn', { state: 'booked', overlapping: [{ event: 'e', start: new Date(2027, 8, 4, 19).getTime(), end: new Date(2027, 8, 4, 23).getTime(), status: 'granted' }] }],
  ['drill', { state: 'free', overlapping: [] }],
]);

describe('ResourcePicker', () => {
  it('shows each resource with its availability and hides deleted ones', () => {
    render(<ResourcePicker resources={[drill, barn, gone]} selected={[]} onChange={() => {}} byResource={byResource} hasTimeframe nameOf={() => 'Ada'} />);
    const options = screen.getAllByTestId('picker-option');
    expect(options.map((o) => o.getAttribute('data-resource'))).toEqual(['barn', 'drill']); // locations first
    expect(options[0].getAttribute('data-availability')).toBe('booked');
    expect(within(options[0]).getByTestId('picker-availability').textContent).toBe('booked 19:00–23:00');
    expect(within(options[1]).getByTestId('picker-availability').textContent).toBe('free');
  });

  it('reports selection changes and shows the inline error', () => {
    const onChange = vi.fn();
    render(<ResourcePicker resources={[barn, drill]} selected={['drill']} onChange={onChange} byResource={byResource} hasTimeframe nameOf={() => 'Ada'} error="Barn is already booked then." />);
    fireEvent.click(within(screen.getAllByTestId('picker-option')[0]).getByTestId('picker-checkbox'));
    expect(onChange).toHaveBeenCalledWith(['drill', 'barn']);
    expect(screen.getByTestId('event-resources-error').textContent).toBe('Barn is already booked then.');
  });

  it('shows no availability until a timeframe is known', () => {
    render(<ResourcePicker resources={[barn]} selected={[]} onChange={() => {}} byResource={byResource} hasTimeframe={false} nameOf={() => 'Ada'} />);
    expect(screen.getByTestId('picker-option').getAttribute('data-availability')).toBe('unknown');
    expect(screen.queryByTestId('picker-availability')).toBeNull();
  });
});
