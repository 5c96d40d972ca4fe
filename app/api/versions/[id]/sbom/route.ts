import { getVersionSbomSource } from "@/db/queries/packages";
import { getViewer } from "@/lib/auth/session";
import { cycloneDxSbom, sbomFilename, sbomInputOf, spdxSbom } from "@/lib/content/sbom";
import { errorResponse, fieldErrorsOf, HangarError, withRouteErrors } from "@/lib/errors";
import { contentDisposition } from "@/lib/http/range";
import { exportSbomSchema } from "@/lib/validations/packages";

// A version's software bill of materials as a download: CycloneDX 1.5 JSON (?format=cyclonedx,
// the default) or SPDX 2.3 JSON (?format=spdx), visible exactly to those who may see the version.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = withRouteErrors(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Your session has ended. Sign in again to continue.");
  const url = new URL(request.url);
  const query = exportSbomSchema.safeParse(Object.fromEntries(url.searchParams));
  if (!query.success) throw new HangarError("invalid", "The format is cyclonedx or spdx.", fieldErrorsOf(query.error));
  const source = await getVersionSbomSource({ viewer, versionId: (await params).id });
  if (!source) return errorResponse("not_found", "That version doesn't exist or you can't see it.");
  const input = sbomInputOf(source);
  if ("reason" in input) throw new HangarError("conflict", input.reason);
  const { format } = query.data;
  const body =
    format === "cyclonedx"
      ? cycloneDxSbom(input)
      : JSON.stringify(spdxSbom(input, { namespaceBase: url.origin }), null, 2);
  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": format === "cyclonedx" ? "application/vnd.cyclonedx+json" : "application/spdx+json",
      "Content-Disposition": contentDisposition(sbomFilename(input, format)),
      "Cache-Control": "private, no-store",
    },
  });
});
