"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

export const CATALOG_SEARCH_ID = "catalog-search";

function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function focusSearch(): boolean {
  const box = document.getElementById(CATALOG_SEARCH_ID);
  if (!(box instanceof HTMLInputElement)) return false;
  box.focus();
  box.select();
  return true;
}

/** "/" focuses the catalog search from anywhere, going to the catalog first when elsewhere. */
export function SearchShortcut() {
  const router = useRouter();
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return;
      event.preventDefault();
      if (focusSearch()) return;
      router.push("/");
      const started = performance.now();
      const retry = () => {
        if (!focusSearch() && performance.now() - started < 5000) requestAnimationFrame(retry);
      };
      requestAnimationFrame(retry);
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [router]);
  return null;
}
