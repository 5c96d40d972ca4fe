"use client";

import Link from "next/link";
import { useEffect, useId, useRef, useState } from "react";
import type { UserRole } from "@/db/schema";
import { Badge } from "@/components/ui/badge";
import { signOutAction } from "./sign-out-action";

export function UserMenu({ name, email, role }: { name: string | null; email: string; role: UserRole }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const displayName = name || "Account";

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        setOpen(false);
        buttonRef.current?.focus();
      }
    };
    document.addEventListener("pointerdown", onPointerDown);
    document.addEventListener("keydown", onKeyDown);
    return () => {
      document.removeEventListener("pointerdown", onPointerDown);
      document.removeEventListener("keydown", onKeyDown);
    };
  }, [open]);

  return (
    <div ref={rootRef} className="relative">
      <button
        ref={buttonRef}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((value) => !value)}
        className="flex items-center gap-2 rounded-md px-1.5 py-1 text-sm hover:bg-raised"
      >
        <span
          aria-hidden="true"
          className="grid size-6 place-items-center rounded-full bg-accent-soft text-xs font-semibold text-accent-strong"
        >
          {(name || email).charAt(0).toUpperCase()}
        </span>
        <span className="sr-only">Account menu: </span>
        <span className="hidden max-w-40 truncate sm:inline">{displayName}</span>
      </button>
      <div
        id={panelId}
        hidden={!open}
        className="absolute right-0 z-30 mt-1 w-64 rounded-lg border border-line bg-surface p-3 shadow-lg"
      >
        <p className="truncate font-medium">{displayName}</p>
        <p className="truncate text-muted">{email}</p>
        <div className="mt-2">
          <Badge tone={role === "admin" ? "accent" : "neutral"}>{role === "admin" ? "Admin" : "Member"}</Badge>
        </div>
        <Link
          href="/settings/account"
          onClick={() => setOpen(false)}
          className="mt-3 block rounded-md border-t border-line px-2 pb-1.5 pt-3 text-sm text-fg hover:bg-raised hover:no-underline"
        >
          Account settings
        </Link>
        <Link
          href="/settings/tokens"
          onClick={() => setOpen(false)}
          className="block rounded-md px-2 py-1.5 text-sm text-fg hover:bg-raised hover:no-underline"
        >
          Access tokens
        </Link>
        <form action={signOutAction} className="mt-1 border-t border-line pt-3">
          <button type="submit" className="w-full rounded-md px-2 py-1.5 text-left text-sm hover:bg-raised">
            Sign out
          </button>
        </form>
      </div>
    </div>
  );
}
