import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { UseItOnSnippet } from "@/lib/feeds/use-it-on";
import { UseItOnPanel } from "./use-it-on-panel";

const snippets: UseItOnSnippet[] = [
  {
    platform: "curl",
    title: "curl",
    language: "shell",
    code: "curl -fLO 'https://h.example/a b.qcow2'",
    note: "Run `sha256sum`",
  },
  { platform: "incus", title: "Incus / LXD", language: "shell", code: null, note: "Needs a feed URL." },
];

// No DOM library in the repo: the server-rendered markup is enough to check the ARIA wiring.
const count = (html: string, text: string) => html.split(text).length - 1;

describe("UseItOnPanel", () => {
  it("wires a tablist: each tab controls its panel, only the first is selected, tabbable and shown", () => {
    const html = renderToStaticMarkup(createElement(UseItOnPanel, { snippets }));
    expect(count(html, 'role="tablist"')).toBe(1);
    expect(count(html, 'role="tab"')).toBe(2);
    expect(count(html, 'role="tabpanel"')).toBe(2);
    const tabs = [...html.matchAll(/<button[^>]*role="tab"[^>]*>/g)].map((match) => match[0]);
    expect(tabs[0]).toContain('aria-selected="true"');
    expect(tabs[0]).toContain('tabindex="0"');
    expect(tabs[1]).toContain('aria-selected="false"');
    expect(tabs[1]).toContain('tabindex="-1"');
    const panels = [...html.matchAll(/<div[^>]*role="tabpanel"[^>]*>/g)].map((match) => match[0]);
    for (const [index, tab] of tabs.entries()) {
      const controls = /aria-controls="([^"]+)"/.exec(tab)![1]!;
      const tabId = /id="([^"]+)"/.exec(tab)![1]!;
      expect(panels[index]).toContain(`id="${controls}"`);
      expect(panels[index]).toContain(`aria-labelledby="${tabId}"`);
    }
    expect(panels[0]).not.toContain("hidden");
    expect(panels[1]).toContain("hidden");
  });

  it("shows the code as text in pre/code with a named copy button, and a platform's reason instead of code", () => {
    const html = renderToStaticMarkup(createElement(UseItOnPanel, { snippets }));
    expect(html).toMatch(/<pre[^>]*><code[^>]*>curl -fLO &#x27;https:\/\/h\.example\/a b\.qcow2&#x27;<\/code><\/pre>/);
    expect(html).toContain('Copy<span class="sr-only"> the curl snippet</span>');
    expect(html).toContain("Run <code>sha256sum</code>");
    expect(html).toContain("Needs a feed URL.");
  });

  it("renders nothing without snippets", () => {
    expect(renderToStaticMarkup(createElement(UseItOnPanel, { snippets: [] }))).toBe("");
  });
});
