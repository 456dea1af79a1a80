// Instructions are Markdown written by requesters: rendered with raw HTML disabled (it shows as
// text), links limited to http(s)/mailto and opened in a new tab, images only from this server
// (the Content-Security-Policy would block others anyway; they show as a link instead).

import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, breaks: false });

const SAFE_LINK = /^(https?:|mailto:|\/(?!\/)|#)/i;
md.validateLink = (url: string) => SAFE_LINK.test(url.trim());

const defaultLink = md.renderer.rules.link_open ?? ((tokens, i, options, _env, self) => self.renderToken(tokens, i, options));
md.renderer.rules.link_open = (tokens, i, options, env, self) => {
  tokens[i].attrSet("target", "_blank");
  tokens[i].attrSet("rel", "noopener noreferrer");
  return defaultLink(tokens, i, options, env, self);
};

md.renderer.rules.image = (tokens, i) => {
  const token = tokens[i];
  const src = String(token.attrGet("src") ?? "");
  const alt = md.utils.escapeHtml(token.content || "image");
  if (/^\/(?!\/)/.test(src)) {
    return `<img src="${md.utils.escapeHtml(src)}" alt="${alt}" loading="lazy">`;
  }
  return `<a href="${md.utils.escapeHtml(src)}" target="_blank" rel="noopener noreferrer">[image: ${alt}]</a>`;
};

/** Safe HTML for the instructions (raw HTML in the source is escaped, not interpreted). */
export function renderMarkdown(source: string): string {
  return md.render(source || "");
}

/** The first line of the instructions, as plain text, for a card or the short prompt. */
export function firstLine(source: string): string {
  const line = (source || "").split("\n").find((l) => l.trim()) || "";
  return line.replace(/[#*_`>[\]()!]/g, "").trim().slice(0, 160);
}
