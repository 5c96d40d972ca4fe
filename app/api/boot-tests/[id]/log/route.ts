import { getBootTest, getBootTestLogs } from "@/db/queries/boot-tests";
import { getViewer } from "@/lib/auth/session";
import { errorResponse, HangarError, withRouteErrors } from "@/lib/errors";
import { checkInput } from "@/lib/validations/check";
import { bootTestLogQuerySchema } from "@/lib/validations/boot-tests";

// A boot test's state and its console lines after `after`, as JSON, for the version page to poll
// while the test runs. Visible exactly to those who see the version. The lines are the guest's
// console, cleaned of escapes and control characters; the page shows them as text, never as HTML.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const LOG_BATCH = 2000;

export const GET = withRouteErrors(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Your session has ended. Sign in again to continue.");
  const url = new URL(request.url);
  const checked = checkInput(bootTestLogQuerySchema, {
    id: (await params).id,
    after: url.searchParams.get("after") ?? 0,
  });
  if (!checked.ok) throw new HangarError("not_found", "That boot test doesn't exist or you can't see it.");
  const test = await getBootTest({ viewer, bootTestId: checked.data.id });
  if (!test) throw new HangarError("not_found", "That boot test doesn't exist or you can't see it.");
  const lines = await getBootTestLogs({ bootTestId: test.id, afterId: checked.data.after, limit: LOG_BATCH });
  const { projectId: _projectId, ...state } = test;
  void _projectId;
  return Response.json(
    {
      test: state,
      lines: lines.map((line) => ({ id: line.id, line: line.line })),
      // More are waiting when the batch came back full.
      more: lines.length === LOG_BATCH,
    },
    { headers: { "cache-control": "no-store", "x-content-type-options": "nosniff" } },
  );
});
