import { describe, expect, it } from "vitest";
import { ApiError } from "../src/core/api";
import { explain } from "../src/core/errors";

const err = (status: number, extra: Record<string, unknown> = {}, retry: number | null = null) => new ApiError(status, { status, ...extra }, retry);

describe("errors in a worker's words", () => {
  it.each([
    [0, "offline"], [401, "Signed out"], [404, "Not found"], [413, "too large"], [500, "server had a problem"],
  ])("%i", (status, words) => {
    expect(JSON.stringify(explain(err(status)))).toContain(words);
  });
  it("an expired lease says time is up", () => {
    expect(explain(err(409, { type: "https://tessera.dev/problems/lease-expired" })).title).toMatch(/Time is up/);
  });
  it("a ban says why", () => {
    expect(explain(err(403, { detail: "You are banned from this project: too many fast answers" })).message).toContain("too many fast answers");
  });
  it("422 lists field errors", () => {
    expect(explain(err(422, { errors: [{ loc: ["body"], msg: "polygon edges cross" }] })).message).toContain("edges cross");
  });
  it("429 says how long to wait", () => {
    expect(explain(err(429, {}, 120)).next).toContain("2 minutes");
  });
});
