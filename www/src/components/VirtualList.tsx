// A windowed list: only the rows in (and near) the viewport are in the DOM, so 10k rows render
// and scroll like 30. Rows have known heights (by index); the math is in lib/windowing.ts.
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { rowOffsets, visibleRange } from '../lib/windowing';

interface Props {
  count: number;
  rowHeight: (index: number) => number;
  renderRow: (index: number) => ReactNode;
  rowKey: (index: number) => string;
  label: string;
  testid: string;
  /** Bumped when heights change without `count` changing. */
  layoutKey?: unknown;
  className?: string;
}

export function VirtualList({ count, rowHeight, renderRow, rowKey, label, testid, layoutKey, className }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  // `rowHeight` is often an inline function: recompute only when the rows change.
  const offsets = useMemo(() => rowOffsets(count, rowHeight), [count, layoutKey]);
  const { start, end } = visibleRange(offsets, scrollTop, viewport);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    setViewport(el.clientHeight || 600);
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => setViewport(el.clientHeight || 600));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // A shorter list (new filter) must not leave us scrolled past its end.
  useEffect(() => {
    const el = scroller.current;
    if (el && el.scrollTop > offsets[count]) el.scrollTop = 0;
  }, [offsets, count]);

  const rows: ReactNode[] = [];
  for (let i = start; i < end; i++) {
    rows.push(
      <div
        key={rowKey(i)}
        className="vrow"
        role="listitem"
        style={{ transform: `translateY(${offsets[i]}px)`, height: offsets[i + 1] - offsets[i] }}
      >
        {renderRow(i)}
      </div>,
    );
  }

  return (
    <div
      ref={scroller}
      className={`vlist ${className ?? ''}`}
      data-testid={testid}
      data-count={count}
      tabIndex={0}
      role="list"
      aria-label={label}
      // Short lists take only the room they need; long ones scroll inside the viewport cap.
      style={{ height: `min(${offsets[count] + 2}px, var(--vlist-max))` }}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
    >
      <div className="vlist-inner" style={{ height: offsets[count] }}>
        {rows}
      </div>
    </div>
  );
}
