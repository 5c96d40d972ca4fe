import { getViewer } from "@/lib/auth/session";
import { uploadServer } from "@/lib/imports/tus";

// Upload bodies stream straight to disk: never buffered, never through a server action.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const handle = (request: Request) => uploadServer({ viewerOf: () => getViewer() }).handle(request);

export { handle as GET, handle as HEAD, handle as POST, handle as PATCH, handle as DELETE, handle as OPTIONS };
