"use client";

import { useId, useState } from "react";
import { Button } from "@/components/ui/button";

/** A set-password link shown once: Hangar keeps only its hash, so it can't be shown again. */
export function OneTimeLink({ email, link, expiresAt }: { email: string; link: string; expiresAt: string }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  return (
    <div role="status" className="space-y-2 rounded-md border border-accent bg-accent-soft/40 p-3 text-sm">
      <p>
        Give this one-time link to <strong>{email}</strong> (by chat or in person; Hangar sends no mail). It works once
        and expires on {new Date(expiresAt).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" })}. It is
        shown only now.
      </p>
      <label htmlFor={id} className="sr-only">
        Set-password link for {email}
      </label>
      <div className="flex gap-2">
        <input
          id={id}
          readOnly
          value={link}
          onFocus={(event) => event.currentTarget.select()}
          className="h-8 w-full rounded-md border border-line-strong bg-surface px-2.5 font-mono text-xs"
        />
        <Button
          onClick={async () => {
            await navigator.clipboard.writeText(link);
            setCopied(true);
          }}
        >
          {copied ? "Copied" : "Copy link"}
        </Button>
      </div>
    </div>
  );
}
