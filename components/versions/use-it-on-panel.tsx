"use client";

import { useId, useRef, useState } from "react";
import { CopyStatus, useCopyText } from "@/components/ui/copy-text";
import { Button } from "@/components/ui/button";
import { cx } from "@/components/ui/cx";
import type { SnippetLanguage, UseItOnSnippet } from "@/lib/feeds/use-it-on";

const languageLabel: Record<SnippetLanguage, string> = { shell: "Shell", yaml: "YAML", hcl: "HCL" };

/**
 * What to paste into each platform for one version, a tab per platform (the WAI-ARIA tabs pattern:
 * arrow keys, Home and End move between tabs and show the one they reach). A platform that can't
 * take this version keeps its tab, which says why.
 */
export function UseItOnPanel({ snippets, heading = "Use it on…" }: { snippets: UseItOnSnippet[]; heading?: string }) {
  const id = useId();
  const [selected, setSelected] = useState(0);
  const { copied, copy: copyText, reset } = useCopyText();
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  if (snippets.length === 0) return null;
  const current = Math.min(selected, snippets.length - 1);

  function select(index: number) {
    setSelected(index);
    reset();
  }

  function onKeyDown(event: React.KeyboardEvent) {
    const last = snippets.length - 1;
    const target: Record<string, number> = {
      ArrowRight: current === last ? 0 : current + 1,
      ArrowLeft: current === 0 ? last : current - 1,
      Home: 0,
      End: last,
    };
    const next = target[event.key];
    if (next === undefined) return;
    event.preventDefault();
    select(next);
    tabs.current[next]?.focus();
  }

  const copy = (index: number, text: string) => copyText(text, `${id}-code-${index}`);

  return (
    <section aria-labelledby={`${id}-heading`} className="space-y-3">
      <h2 id={`${id}-heading`} className="text-base font-semibold">
        {heading}
      </h2>
      <div
        role="tablist"
        aria-labelledby={`${id}-heading`}
        onKeyDown={onKeyDown}
        className="flex flex-wrap gap-1 border-b border-line"
      >
        {snippets.map((snippet, index) => (
          <button
            key={snippet.platform}
            ref={(element) => {
              tabs.current[index] = element;
            }}
            type="button"
            role="tab"
            id={`${id}-tab-${index}`}
            aria-selected={index === current}
            aria-controls={`${id}-panel-${index}`}
            tabIndex={index === current ? 0 : -1}
            onClick={() => select(index)}
            className={cx(
              "-mb-px rounded-t-md border border-b-0 px-3 py-1.5 text-sm font-medium",
              index === current
                ? "border-line bg-surface text-fg"
                : "border-transparent text-muted hover:bg-raised hover:text-fg",
            )}
          >
            {snippet.title}
          </button>
        ))}
      </div>
      {snippets.map((snippet, index) => (
        <div
          key={snippet.platform}
          role="tabpanel"
          id={`${id}-panel-${index}`}
          aria-labelledby={`${id}-tab-${index}`}
          hidden={index !== current}
          tabIndex={snippet.code === null ? 0 : undefined}
          className="space-y-2"
        >
          {snippet.code === null ? (
            <p className="text-sm text-muted">
              <Note text={snippet.note} />
            </p>
          ) : (
            <>
              <div className="flex items-center justify-between gap-2">
                <span className="text-xs text-muted">{languageLabel[snippet.language]}</span>
                <Button size="sm" onClick={() => copy(index, snippet.code)}>
                  Copy<span className="sr-only"> the {snippet.title} snippet</span>
                </Button>
              </div>
              {/* Focusable so a keyboard can scroll a long snippet. */}
              <pre
                tabIndex={0}
                aria-label={`${snippet.title} ${languageLabel[snippet.language]}`}
                className="max-h-96 overflow-auto rounded-md bg-raised p-3 font-mono text-xs leading-relaxed"
              >
                <code id={`${id}-code-${index}`}>{snippet.code}</code>
              </pre>
              {snippet.note ? (
                <p className="text-xs text-muted">
                  <Note text={snippet.note} />
                </p>
              ) : null}
            </>
          )}
        </div>
      ))}
      <CopyStatus copied={copied} />
    </section>
  );
}

/** A note with `backticked` commands shown as code. */
function Note({ text }: { text: string }) {
  return text.split("`").map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part));
}
