import { redirect } from "next/navigation";
import { cache } from "react";
import { getViewerById, type Viewer } from "@/db/queries/users";
import { auth } from "./config";

export type { Viewer };

// The JWT only says who signed in; role, memberships and whether the account is still enabled are
// read from the database on every request so a change takes effect at once.
// cache(): the layout and the page both ask within one request; one lookup serves both.
export const getViewer = cache(async (): Promise<Viewer | null> => {
  const session = await auth();
  const id = session?.user?.id;
  if (!id) return null;
  return getViewerById({ id });
});

export async function requireViewer(returnTo = "/"): Promise<Viewer> {
  const viewer = await getViewer();
  if (!viewer) redirect(`/sign-in?callbackUrl=${encodeURIComponent(returnTo)}`);
  return viewer;
}
