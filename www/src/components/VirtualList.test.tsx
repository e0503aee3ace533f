import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import { VirtualList } from './VirtualList';

describe('VirtualList', () => {
  it('puts only a window of 10k rows in the DOM and follows scrolling', () => {
    render(
      <VirtualList
        count={10_000}
        rowHeight={() => 50}
        rowKey={(i) => String(i)}
        renderRow={(i) => <span>row {i}</span>}
        label="rows"
        testid="list"
      />,
    );
    const list = screen.getByTestId('list');
    // jsdom has no layout: the list assumes a 600 px viewport.
    expect(screen.getAllByRole('listitem').length).toBeLessThan(40);
    expect(screen.getByText('row 0')).toBeTruthy();
    expect(screen.queryByText('row 5000')).toBeNull();
    list.scrollTop = 5000 * 50;
    fireEvent.scroll(list);
    expect(screen.getByText('row 5000')).toBeTruthy();
    expect(screen.queryByText('row 0')).toBeNull();
    expect(list.getAttribute('data-count')).toBe('10000');
  });
});
