import { describe, expect, it } from "vitest";
import type { Project, Skill } from "../src/core/types";
import { standing } from "../src/worker/marketplace";

// GET /v1/me/skills as the server sends it: no gold count (it would mark gold submits).
const skill = (over: Partial<Skill>): Skill => ({
  project_id: "prj_1", accuracy: 0.7, accuracy_upper: 0.9, graded_answers: 0, qualified: true,
  qualification_retry_at: null, banned: false, ban_reason: null, ...over,
});
const project = (gold: number) => ({ id: "prj_1", qualification_gold_tasks: gold }) as unknown as Project;

describe("a worker's standing on a project card", () => {
  it("shows the accuracy once an answer is graded", () => {
    expect(standing(project(0), skill({ graded_answers: 12, accuracy: 0.834 }))).toEqual({ text: "Your accuracy 83%", cls: "accuracy" });
  });
  it("shows no accuracy before any graded answer (the estimate is only the prior then)", () => {
    expect(standing(project(0), skill({ graded_answers: 0 }))).toEqual({ text: "New to you", cls: "new" });
    expect(standing(project(0), undefined).cls).toBe("new");
  });
  it("asks for the qualification's gold tasks until qualified, and says when to retry", () => {
    expect(standing(project(3), undefined)).toEqual({ text: "3 gold tasks to qualify", cls: "qualify" });
    expect(standing(project(1), skill({ qualified: false })).text).toBe("1 gold task to qualify");
    const later = new Date(Date.now() + 3_600_000).toISOString();
    expect(standing(project(2), skill({ qualified: false, qualification_retry_at: later })).cls).toBe("waiting");
  });
  it("says a ban and its reason first", () => {
    expect(standing(project(0), skill({ banned: true, ban_reason: "fast answers", graded_answers: 40 })).text).toBe("Banned: fast answers");
  });
});
