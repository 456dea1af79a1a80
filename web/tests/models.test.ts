import { describe, expect, it } from "vitest";
import {
  autoLabelFieldOfLoc, builtinFits, checkAutoLabel, checkModel, checkUrl, DEFAULT_MODEL_FORM, labeledBy, modelProblemFields, modelState, predictionText, reliabilityText,
} from "../src/requester/models";
import type { AttachedModel } from "../src/requester/types";

const model = (over: Partial<AttachedModel>): AttachedModel => ({
  id: "mdl_1", project_id: "prj_1", kind: "http", name: "detector", url: "https://m.example/p", timeout_s: 10, trained_on: 0, fitted_at: null,
  predictions: 0, failed_calls: 0, last_error: null, reliability: null, created_at: "2026-12-01T10:00:00Z", ...over,
});

describe("attach form", () => {
  const http = { ...DEFAULT_MODEL_FORM, name: " detector ", url: "https://models.example.com/predict" };
  it("builds the API body of an http model", () => {
    const { body, errors } = checkModel(http, "bbox");
    expect(errors).toEqual({});
    expect(body).toEqual({ kind: "http", name: "detector", url: "https://models.example.com/predict", timeout_s: 10 });
  });
  it("refuses what the API's schema refuses", () => {
    const { errors } = checkModel({ ...http, name: "", url: "ftp://x.example/p", timeout_s: "0" }, "bbox");
    expect(Object.keys(errors).sort()).toEqual(["name", "timeout_s", "url"]);
    expect(checkModel({ ...http, timeout_s: "61" }, "bbox").errors.timeout_s).toMatch(/60/);
    expect(checkModel({ ...http, timeout_s: "60" }, "bbox").errors).toEqual({});
    expect(checkModel({ ...http, timeout_s: "" }, "bbox").errors.timeout_s).toBeTruthy();
    expect(checkModel({ ...http, name: "x".repeat(201) }, "bbox").errors.name).toMatch(/200/);
  });
  it("checks the URL's form (the public-address check is the server's)", () => {
    expect(checkUrl("")).toMatch(/URL/);
    expect(checkUrl("models.example.com/predict")).toMatch(/Not a URL/);
    expect(checkUrl("https://user:pw@models.example.com/p")).toMatch(/password/);
    expect(checkUrl("http://127.0.0.1:9000/p")).toBeNull();
    expect(checkUrl(`https://x.example/${"a".repeat(2048)}`)).toMatch(/2048/);
  });
  it("offers the builtin classifier for classification and multilabel only, with no url", () => {
    expect(builtinFits("classification") && builtinFits("multilabel")).toBe(true);
    expect(builtinFits("bbox")).toBe(false);
    expect(checkModel({ ...http, kind: "builtin" }, "classification")).toEqual({ body: { kind: "builtin", name: "detector" }, errors: {} });
    expect(checkModel({ ...http, kind: "builtin" }, "polygon").errors.kind).toMatch(/http model instead/);
  });
  it("puts the API's problems next to their fields", () => {
    expect(modelProblemFields({ status: 422, type: "https://tessera.dev/problems/unsafe-model-url", detail: "url: the host resolves to a private address" }))
      .toEqual({ url: "the host resolves to a private address" });
    expect(modelProblemFields({ status: 422, type: "model-kind-not-for-project", detail: "The builtin model predicts …" }).kind).toMatch(/builtin/);
    expect(modelProblemFields({ status: 422, errors: [{ loc: ["body", "timeout_s"], msg: "Input should be less than or equal to 60" }, { loc: ["body"], msg: "Value error, an http model needs a url" }] }))
      .toEqual({ timeout_s: "Input should be less than or equal to 60", url: "an http model needs a url" });
  });
});

describe("a model's state and reliability", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  it("says what an http model is doing", () => {
    expect(modelState(model({}), now).key).toBe("waiting");
    expect(modelState(model({ predictions: 4 }), now).key).toBe("predicting");
    expect(modelState(model({ predictions: 4, last_error: "timeout after 10 s" }), now)).toEqual({ key: "retrying", text: expect.stringContaining("timeout after 10 s") });
    const failing = modelState(model({ predictions: 4, failed_calls: 2, last_error: "HTTP 404" }), now);
    expect(failing.key).toBe("failing");
    expect(failing.text).toMatch(/^2 tasks given up.*HTTP 404/);
  });
  it("says whether the builtin classifier has learnt yet", () => {
    expect(modelState(model({ kind: "builtin", url: null }), now).key).toBe("learning");
    const fitted = modelState(model({ kind: "builtin", trained_on: 1, fitted_at: "2026-12-01T09:00:00Z" }), now);
    expect(fitted).toEqual({ key: "fitted", text: expect.stringMatching(/^Fitted on 1 completed task 3 hours ago/) });
  });
  it("words the measured reliability", () => {
    expect(reliabilityText(null).text).toBe("not measured yet");
    expect(reliabilityText(null).title).toMatch(/No weight/);
    const acc = reliabilityText({ measure: "accuracy", value: 0.896, uncertainty: 0.021, answers: 200, measured_at: null });
    expect(acc.text).toBe("90% ± 2% right");
    expect(acc.title).toMatch(/on 200 answers/);
    expect(reliabilityText({ measure: "skill", value: 0.8125, uncertainty: null, answers: 30, measured_at: null }).text).toBe("skill 0.81");
  });
});

describe("auto-labelling form", () => {
  const ok = { auto_label: true, confidence: "0.9", audit: "0.1" };
  it("builds the PATCH body", () => {
    expect(checkAutoLabel(ok, 1)).toEqual({ body: { auto_label: true, auto_label_audit: 0.1, confidence: 0.9 }, errors: {}, warnings: [] });
  });
  it("refuses what the API refuses", () => {
    expect(Object.keys(checkAutoLabel({ ...ok, confidence: "0.5", audit: "1.5" }, 1).errors).sort()).toEqual(["audit", "confidence"]);
    expect(checkAutoLabel({ ...ok, confidence: "1" }, 1).errors.confidence).toMatch(/0.5 and 1/);
    expect(checkAutoLabel({ ...ok, audit: "" }, 1).errors.audit).toBeTruthy();
    expect(checkAutoLabel({ ...ok, audit: "-0.1" }, 1).errors.audit).toBeTruthy();
    expect(checkAutoLabel({ ...ok, audit: "1" }, 1).errors).toEqual({});
  });
  it("warns without refusing: no audit, no model", () => {
    expect(checkAutoLabel({ ...ok, audit: "0" }, 1).warnings[0]).toMatch(/nobody checks/);
    expect(checkAutoLabel(ok, 0).warnings[0]).toMatch(/No model/);
    expect(checkAutoLabel({ ...ok, auto_label: false, audit: "0" }, 0).warnings).toEqual([]);
  });
  it("maps the API's error locations", () => {
    expect(autoLabelFieldOfLoc(["body", "auto_label_audit"])).toBe("audit");
    expect(autoLabelFieldOfLoc(["body", "confidence"])).toBe("confidence");
    expect(autoLabelFieldOfLoc(["body", "auto_label"])).toBe("auto_label");
  });
});

describe("results: who labelled a task, and what the worker did with a suggestion", () => {
  it("tells the model, the crowd and an audit apart", () => {
    expect(labeledBy({ status: "completed", labeled_by: "model", audited: false })?.key).toBe("model");
    expect(labeledBy({ status: "completed", labeled_by: "crowd", audited: false })?.key).toBe("crowd");
    expect(labeledBy({ status: "completed", labeled_by: "crowd", audited: true })).toEqual({ key: "audit", text: "audited", title: expect.stringMatching(/people labelled it anyway/) });
    expect(labeledBy({ status: "open", labeled_by: null, audited: true })?.text).toBe("audit");
    expect(labeledBy({ status: "open", labeled_by: null, audited: false })).toBeNull();
    expect(labeledBy({ status: "open" })).toBeNull(); // an older server: no such fields
  });
  it("says how much of the prediction an answer kept", () => {
    expect(predictionText(null)).toEqual({ key: "scratch", text: "no suggestion" });
    const p = { model_id: "mdl_1", model_score: 0.934, agreement: 1, unchanged: true, measure: "IoU" };
    expect(predictionText(p, "detector").text).toBe("kept the suggestion of detector (score 0.93) unchanged");
    expect(predictionText({ ...p, unchanged: false, agreement: 0.82 }, "detector")).toEqual({ key: "edited", text: "edited the suggestion of detector (score 0.93): IoU 0.82 with it" });
    expect(predictionText({ ...p, unchanged: false, agreement: 0.2 }).key).toBe("replaced");
    expect(predictionText({ ...p, unchanged: false, agreement: 0, measure: "label kept" }).text).toMatch(/^changed the label suggested by mdl_1/);
    expect(predictionText({ ...p, unchanged: false, agreement: 1, measure: "label kept" }).key).toBe("edited");
  });
});
