"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { Button } from "@/components/ui/button";
import { rebuildServerAction } from "@/lib/actions/recipes";

/** One click: the same recipe on the newest approved base, queued; the output goes to review. */
export function RebuildButton({ versionId }: { versionId: string }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [message, setMessage] = useState<{ text: string; href?: string } | null>(null);
  const rebuild = () =>
    startTransition(async () => {
      const result = await rebuildServerAction({ versionId });
      if (!result.ok) return setMessage({ text: result.message });
      if (result.data.queued) router.push(`/builds/${result.data.buildId}`);
      else setMessage({ text: `Already built: ${result.data.reused.imageSlug} ${result.data.reused.version}.`, href: `/images/${result.data.reused.imageSlug}/versions/${encodeURIComponent(result.data.reused.version)}` });
    });
  return (
    <span className="inline-flex flex-wrap items-center gap-2">
      <Button size="sm" variant="primary" disabled={pending} onClick={rebuild}>
        {pending ? "Queueing…" : "Rebuild on the new base"}
      </Button>
      {message ? <span role="status">{message.href ? <Link href={message.href}>{message.text}</Link> : message.text}</span> : null}
    </span>
  );
}
