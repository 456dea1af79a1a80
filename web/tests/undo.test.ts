import { describe, expect, it } from "vitest";
import { UndoStack } from "../src/canvas/undo";

describe("UndoStack", () => {
  it("undoes and redoes in order, and a new edit forgets the redo", () => {
    const s = new UndoStack<number>();
    let state = 0;
    for (const next of [1, 2, 3]) {
      s.push(state);
      state = next;
    }
    state = s.undo(state)!;
    state = s.undo(state)!;
    expect(state).toBe(1);
    state = s.redo(state)!;
    expect(state).toBe(2);
    s.push(state);
    state = 9;
    expect(s.canRedo).toBe(false);
    expect(s.undo(state)).toBe(2);
  });
  it("returns null when there is nothing to undo", () => {
    expect(new UndoStack<number>().undo(1)).toBeNull();
  });
  it("keeps at most its limit", () => {
    const s = new UndoStack<number>(2);
    s.push(1); s.push(2); s.push(3);
    expect(s.undo(4)).toBe(3);
    expect(s.undo(3)).toBe(2);
    expect(s.undo(2)).toBeNull();
  });
});
