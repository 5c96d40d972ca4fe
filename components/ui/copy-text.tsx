"use client";

import { useState } from "react";

type Copied = "copied" | "select" | null;

/**
 * Copying a value the page shows once (a secret, a feed URL, a snippet): to the clipboard, or, where
 * the page may not write to it (an insecure origin, a denied permission), by selecting the element
 * that shows it for Ctrl+C. CopyStatus says which happened.
 */
export function useCopyText() {
  const [copied, setCopied] = useState<Copied>(null);
  async function copy(text: string, shownIn: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("copied");
    } catch {
      const element = document.getElementById(shownIn);
      if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) element.select();
      else if (element) window.getSelection()?.selectAllChildren(element);
      setCopied("select");
    }
  }
  return { copied, copy, reset: () => setCopied(null) };
}

export function CopyStatus({ copied }: { copied: Copied }) {
  return (
    <p role="status" className="text-xs text-muted empty:hidden">
      {copied === "copied" ? "Copied to the clipboard." : copied === "select" ? "Selected: press Ctrl+C to copy." : ""}
    </p>
  );
}
