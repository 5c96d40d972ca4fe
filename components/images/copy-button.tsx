"use client";

import { useState } from "react";

/** Shows a shortened value and copies the full one; the full value is also in the title. */
export function CopyValue({ value, label, shown }: { value: string; label: string; shown: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <span className="inline-flex items-center gap-1">
      <code title={value}>{shown}</code>
      <button
        type="button"
        onClick={async () => {
          await navigator.clipboard.writeText(value);
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        }}
        className="rounded px-1 text-xs text-accent hover:bg-raised"
      >
        {copied ? "Copied" : "Copy"}
        <span className="sr-only"> {label}</span>
      </button>
    </span>
  );
}
