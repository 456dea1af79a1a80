import { describe, expect, it } from "vitest";
import { firstLine, renderMarkdown } from "../src/core/markdown";

describe("instructions", () => {
  it("render raw HTML as text", () => {
    const html = renderMarkdown('Hi <script>alert(1)</script> <img src=x onerror="alert(2)">');
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;");
  });
  it("drop javascript: links", () => {
    expect(renderMarkdown("[click](javascript:alert(1))")).not.toContain('href="javascript');
  });
  it("open links in a new tab without a referrer", () => {
    expect(renderMarkdown("[doc](https://example.org/x)")).toContain('rel="noopener noreferrer"');
  });
  it("show this server's images and only link to others", () => {
    expect(renderMarkdown("![cat](/v1/images/img_1)")).toContain('<img src="/v1/images/img_1"');
    expect(renderMarkdown("![cat](https://cdn.example/cat.png)")).not.toContain("<img");
  });
  it("give a plain first line for cards", () => {
    expect(firstLine("\n# **Box** every car\nmore")).toBe("Box every car");
  });
});
