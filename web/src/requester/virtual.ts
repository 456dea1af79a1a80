// The gallery's virtual grid: only the rows in view (plus a margin) are in the DOM. Pure layout
// arithmetic here (unit-tested); gallery.ts owns the elements.

export interface GridLayout {
  cols: number;
  colWidth: number;
  rowHeight: number; // a tile's height plus the gap below it
  gap: number;
}

/** Columns of at least `minWidth` px across `width` px with `gap` px between them. */
export function gridLayout(width: number, minWidth: number, gap: number, tileHeight: (colWidth: number) => number): GridLayout {
  const cols = Math.max(1, Math.floor((width + gap) / (minWidth + gap)));
  const colWidth = Math.max(1, (width - gap * (cols - 1)) / cols);
  return { cols, colWidth, rowHeight: tileHeight(colWidth) + gap, gap };
}

/** The items [start, end) to render when the grid's top is `top` px from the viewport's top
 * (negative once scrolled past) in a viewport `viewport` px high, with `margin` px of rows
 * kept above and below. */
export function visibleRange(top: number, viewport: number, layout: GridLayout, count: number, margin: number): [number, number] {
  if (count <= 0) return [0, 0];
  const first = Math.max(0, Math.floor((-top - margin) / layout.rowHeight));
  const last = Math.max(first, Math.ceil((viewport - top + margin) / layout.rowHeight));
  return [Math.min(count, first * layout.cols), Math.min(count, last * layout.cols)];
}

/** Where item `i` sits inside the grid, in px. */
export function tilePosition(i: number, layout: GridLayout): { x: number; y: number } {
  const row = Math.floor(i / layout.cols), col = i % layout.cols;
  return { x: col * (layout.colWidth + layout.gap), y: row * layout.rowHeight };
}

/** The grid's full height for `count` items. */
export const gridHeight = (count: number, layout: GridLayout): number =>
  Math.max(0, Math.ceil(count / layout.cols) * layout.rowHeight - layout.gap);
