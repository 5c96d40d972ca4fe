"use client";

import { useRouter } from "next/navigation";
import { useEffect, useTransition, type ReactNode } from "react";
import { Button } from "@/components/ui/button";

/**
 * Re-renders the page's server components every few seconds while a job it shows is queued or
 * running (the page stops rendering this once it ended), with a button to refresh at once.
 * `children` is the status text, announced politely when it changes.
 */
export function RefreshWhilePending({ children, intervalMs = 4000 }: { children: ReactNode; intervalMs?: number }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") router.refresh();
    }, intervalMs);
    return () => window.clearInterval(timer);
  }, [router, intervalMs]);
  return (
    <div className="flex flex-wrap items-center gap-3">
      <p role="status" aria-live="polite" className="text-sm">
        {children}
      </p>
      <Button size="sm" onClick={() => startTransition(() => router.refresh())} disabled={pending}>
        {pending ? "Refreshing…" : "Refresh"}
      </Button>
    </div>
  );
}
