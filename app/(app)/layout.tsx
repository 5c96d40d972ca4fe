import type { ReactNode } from "react";
import { AppShell } from "@/components/shell/app-shell";
import { getViewer } from "@/lib/auth/session";

// Pages check the session themselves (with their own return path); the shell only needs to know
// who is looking to draw the navigation and the user menu.
export default async function SignedInLayout({ children }: { children: ReactNode }) {
  const viewer = await getViewer();
  return <AppShell viewer={viewer}>{children}</AppShell>;
}
