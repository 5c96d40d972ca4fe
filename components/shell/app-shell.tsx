import Link from "next/link";
import { Suspense, type ReactNode } from "react";
import type { Viewer } from "@/db/queries/users";
import { MainNav } from "./main-nav";
import { navItemsFor } from "./nav-items";
import { RouteAnnouncer } from "./route-announcer";
import { SearchShortcut } from "./search-shortcut";
import { UserMenu } from "./user-menu";

export function AppShell({ viewer, children }: { viewer: Viewer | null; children: ReactNode }) {
  return (
    <>
      <a
        href="#main"
        className="sr-only z-50 rounded-md bg-accent px-3 py-2 font-medium text-accent-fg focus:not-sr-only focus:fixed focus:left-3 focus:top-3"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-20 border-b border-line bg-surface/95 backdrop-blur">
        <div className="mx-auto flex h-12 max-w-screen-2xl items-center gap-4 px-4">
          <Link href="/" className="flex items-center gap-2 font-semibold text-fg hover:no-underline">
            <HangarMark />
            Hangar
          </Link>
          {viewer ? (
            <>
              <div className="min-w-0 flex-1">
                <MainNav items={navItemsFor(viewer)} />
              </div>
              <UserMenu name={viewer.name} email={viewer.email} role={viewer.role} />
            </>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto max-w-screen-2xl px-4 py-6 focus:outline-none">
        {children}
      </main>
      <footer className="mx-auto max-w-screen-2xl px-4 pb-6 text-sm text-muted">
        <nav aria-label="For machines" className="flex gap-4 border-t border-line pt-3">
          <Link href="/api">API reference</Link>
          <a href="/api/v1/openapi.json">OpenAPI document</a>
        </nav>
      </footer>
      {viewer ? <SearchShortcut /> : null}
      <Suspense>
        <RouteAnnouncer />
      </Suspense>
    </>
  );
}

function HangarMark() {
  return (
    <svg
      aria-hidden="true"
      viewBox="0 0 24 24"
      className="size-5 text-accent"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
    >
      <path d="M3 20V10l9-6 9 6v10" strokeLinejoin="round" />
      <path d="M7 20v-6h10v6" strokeLinejoin="round" />
    </svg>
  );
}
