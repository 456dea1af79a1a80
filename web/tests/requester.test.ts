import { describe, expect, it } from "vitest";
import { axisMax, linePath, scale } from "../src/charts/svg";
import { checkProject, DEFAULT_FORM, fieldOfLoc, formOf, humanDuration, names, parseSkeleton } from "../src/requester/form";
import { maskColours } from "../src/requester/overlay";
import { sortItems } from "../src/requester/stats";
import type { ResultItem } from "../src/requester/types";
import { fileProgress, parseUrlList, reportRows, urlReportRows } from "../src/requester/upload";
import { gridHeight, gridLayout, tilePosition, visibleRange } from "../src/requester/virtual";

const item = (over: Partial<ResultItem>): ResultItem => ({
  task_id: "tsk_1", image_name: "a.png", image_url: "/x", status: "completed", answer: null, confidence: 0.9, answer_count: 3, ...over,
});

describe("project form", () => {
  const ok = { ...DEFAULT_FORM, name: "Cars", labels: "car\nperson" };
  it("builds the API body", () => {
    const { body, errors } = checkProject(ok);
    expect(errors).toEqual({});
    expect(body.annotation).toEqual({ type: "bbox", labels: ["car", "person"] });
    expect(body.overlap).toEqual({ min: 3, max: 5 });
  });
  it("refuses what the API refuses", () => {
    const { errors } = checkProject({ ...ok, name: " ", labels: "a\na", reward: "0", overlap_min: 4, overlap_max: 2, confidence: 0.5, gold_rate: 0.6, assignment_duration_s: 10 });
    expect(Object.keys(errors).sort()).toEqual(["assignment_duration_s", "confidence", "gold_rate", "labels", "name", "overlap_max", "reward"]);
    expect(checkProject({ ...ok, reward: "0.1234567" }).errors.reward).toBeTruthy();
    expect(checkProject({ ...ok, reward: "101" }).errors.reward).toMatch(/100/);
  });
  it("checks keypoints and their skeleton", () => {
    const kp = { ...ok, type: "keypoints" as const, labels: "", keypoints: "nose\nleft eye\nright eye", skeleton: "0-1, 0-2" };
    const { body, errors } = checkProject(kp);
    expect(errors).toEqual({});
    expect(body.annotation).toEqual({ type: "keypoints", keypoints: ["nose", "left eye", "right eye"], skeleton: [[0, 1], [0, 2]] });
    expect(checkProject({ ...kp, skeleton: "0-3" }).errors.skeleton).toMatch(/0 to 2/);
    expect(checkProject({ ...kp, skeleton: "nose-eye" }).errors.skeleton).toMatch(/not an edge/);
    expect(parseSkeleton("")).toEqual([]);
  });
  it("round-trips a stored project and maps API error locations", () => {
    const p = { name: "P", instructions: "i", annotation: { type: "keypoints" as const, labels: ["face"], keypoints: ["a", "b"], skeleton: [[0, 1]] as [number, number][] }, reward: "0.04", overlap: { min: 2, max: 4 }, confidence: 0.8, gold_rate: 0.1, qualification: { gold_tasks: 2, min_accuracy: 0.7 }, ban_below_accuracy: 0.4, assignment_duration_s: 300, auto_accept_s: 60 };
    const f = formOf(p);
    expect(f.skeleton).toBe("0-1");
    expect(checkProject(f).body.annotation).toEqual(p.annotation);
    expect(fieldOfLoc(["body", "overlap", "min"])).toBe("overlap_min");
    expect(fieldOfLoc(["body", "annotation", "labels", 1])).toBe("labels");
    expect(names(" a, b\n\nc ")).toEqual(["a", "b", "c"]);
  });
});

describe("gallery sorting", () => {
  const items = [
    item({ task_id: "1", confidence: 0.95, answer_count: 2, completed_at: "2026-01-01T00:02:00Z", answers: [{ assignment_id: "a", worker_id: "w1", answer: null, status: "accepted", reason: null, submitted_at: null, agreement: 1 }, { assignment_id: "b", worker_id: "w2", answer: null, status: "rejected", reason: "x", submitted_at: null, agreement: 0 }] }),
    item({ task_id: "2", confidence: 0.55, answer_count: 5, completed_at: "2026-01-01T00:01:00Z", answers: [{ assignment_id: "c", worker_id: "w1", answer: null, status: "accepted", reason: null, submitted_at: null, agreement: 0.5 }] }),
    item({ task_id: "3", status: "open", confidence: null, answer_count: 1 }),
  ];
  it("sorts by confidence (unknown last) and by disagreement", () => {
    expect(sortItems(items, "confidence").map((i) => i.task_id)).toEqual(["2", "1", "3"]);
    expect(sortItems(items, "disagreement")[0].task_id).toBe("2");
    expect(sortItems(items, "order")).toBe(items);
  });
});

describe("upload", () => {
  it("spreads the bytes sent over the files in order", () => {
    expect(fileProgress([100, 50, 0, 10], 0)).toEqual([0, 0, 0, 0]);
    expect(fileProgress([100, 50, 10], 125)).toEqual([1, 0.5, 0]);
    expect(fileProgress([100, 50, 10], 1000)).toEqual([1, 1, 1]);
  });
  it("reports each file: added, refused with the reason, or a duplicate of which", () => {
    const rows = reportRows(["a.png", "bad.png", "a copy.png", "pics.zip"], {
      skipped: [{ name: "bad.png", reason: "not an image" }, { name: "pics.zip/x.gif", reason: "unsupported type" }],
      duplicates: [{ name: "a copy.png", same_as: "a.png" }],
    });
    expect(rows.map((r) => [r.name, r.state])).toEqual([["a.png", "added"], ["bad.png", "skipped"], ["a copy.png", "duplicate"], ["pics.zip", "added"], ["pics.zip/x.gif", "skipped"]]);
    expect(rows[2].why).toBe("same image as a.png");
  });
});

describe("charts and overlays", () => {
  it("picks round axis maxima and scales linearly", () => {
    // Four steps of a round size; whole steps for counts (28 tasks: 0, 10, … 40, not 12.5s).
    expect([28, 25, 3, 1, 0].map((v) => axisMax(v, 4, true))).toEqual([40, 40, 4, 4, 4]);
    expect([1, 0.9, 0.3, 2.2].map((v) => axisMax(v))).toEqual([1, 1, 0.4, 4]);
    expect(scale([0, 10], [100, 0])(5)).toBe(50);
    expect(linePath([[0, 0], [1.25, 2]])).toBe("M0.0,0.0L1.3,2.0");
  });
  it("colours mask labels and leaves 0 and unknown values clear", () => {
    const out = maskColours(new Uint8Array([0, 1, 2, 9]), 1, 2);
    expect([...out.slice(0, 4)]).toEqual([0, 0, 0, 0]);
    expect(out[7]).toBe(255);
    expect(out[11]).toBe(255);
    expect(out[15]).toBe(0);
  });
});

import { chunkIndices } from "../src/requester/upload";

describe("chunked upload", () => {
  it("splits by file count and by bytes, never leaving a file out", () => {
    expect(chunkIndices([1, 1, 1, 1, 1], 2, 100)).toEqual([[0, 1], [2, 3], [4]]);
    expect(chunkIndices([60, 60, 10, 200], 10, 100)).toEqual([[0], [1, 2], [3]]);
    expect(chunkIndices([], 3, 10)).toEqual([]);
  });
});

describe("virtual gallery grid", () => {
  const layout = gridLayout(1000, 220, 10, (c) => c * 0.75 + 36);
  it("fits columns of the least width", () => {
    expect(layout.cols).toBe(4);
    expect(layout.colWidth).toBeCloseTo((1000 - 30) / 4);
    expect(gridLayout(100, 220, 10, () => 100).cols).toBe(1);
  });
  it("renders only the rows in view plus the margin", () => {
    const row = layout.rowHeight;
    expect(visibleRange(100, 800, layout, 10_000, 0)).toEqual([0, 4 * Math.ceil(700 / row)]);
    // Scrolled 50 rows down: the window starts a margin's worth of rows above the viewport.
    const [a, b] = visibleRange(-50 * row, 800, layout, 10_000, 2 * row);
    expect(a).toBe(48 * 4);
    expect(b).toBe(4 * Math.ceil((800 + 52 * row) / row));
    expect(b - a).toBeLessThan(60);
    expect(visibleRange(-50 * row, 800, layout, 30, 0)).toEqual([30, 30]);
    expect(visibleRange(0, 800, layout, 0, 100)).toEqual([0, 0]);
  });
  it("places tiles row by row", () => {
    expect(tilePosition(5, layout)).toEqual({ x: layout.colWidth + 10, y: layout.rowHeight });
    expect(gridHeight(9, layout)).toBeCloseTo(3 * layout.rowHeight - 10);
  });
});

describe("pasted URL lists", () => {
  it("keeps http(s) URLs once and refuses the rest before sending", () => {
    const { urls, rows } = parseUrlList("https://a.example/1.png\n\n# a comment\nftp://a.example/2.png\nhello\n https://a.example/1.png \nhttp://a.example/3.jpg\r\n");
    expect(urls).toEqual(["https://a.example/1.png", "http://a.example/3.jpg"]);
    expect(rows.map((r) => [r.name, r.state])).toEqual([["ftp://a.example/2.png", "skipped"], ["hello", "skipped"], ["https://a.example/1.png", "duplicate"]]);
  });
  it("reports each URL from the batch's upload report", () => {
    const urls = ["https://a.example/x/1.png", "https://a.example/2.png", "https://a.example/3.png"];
    const report = { skipped: [{ name: urls[1], reason: "not an image" }], duplicates: [{ name: "3.png", same_as: "an image already in the batch" }] };
    expect(urlReportRows(urls, report, 1).map((r) => r.state)).toEqual(["fetching", "skipped", "fetching"]);
    expect(urlReportRows(urls, report, 0).map((r) => [r.state, r.why])).toEqual([["added", ""], ["skipped", "not an image"], ["duplicate", "same image as an image already in the batch"]]);
  });
});

describe("durations read as a person reads them", () => {
  it("names the two largest units", () => {
    expect(humanDuration(600)).toBe("10 min");
    expect(humanDuration(259200)).toBe("3 days");
    expect(humanDuration(5400)).toBe("1 h 30 min");
    expect(humanDuration(86400 + 3600 + 61)).toBe("1 day 1 h");
    expect(humanDuration(45)).toBe("45 s");
    expect(humanDuration(0)).toBe("none");
  });
  it("says nothing of what the field's check refuses", () => {
    expect(humanDuration(-5)).toBe("");
    expect(humanDuration(1.5)).toBe("");
    expect(humanDuration(Number.NaN)).toBe("");
  });
});
