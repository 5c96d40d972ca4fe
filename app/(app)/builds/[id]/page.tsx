import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { BuildLive } from "@/components/builds/build-live";
import { PageHeader } from "@/components/shell/page-header";
import { RelativeTime } from "@/components/ui/time";
import { getBuild, getBuildLogs } from "@/db/queries/builds";
import { requireViewer } from "@/lib/auth/session";
import { env } from "@/lib/env";

export const metadata: Metadata = { title: "Build" };

export default async function BuildPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const viewer = await requireViewer(`/builds/${id}`);
  const build = await getBuild({ viewer, id });
  if (!build) notFound();
  const logs = await getBuildLogs({ buildId: id, limit: 5000 });
  return (
    <div className="space-y-6">
      <PageHeader
        title={`Build #${build.number}`}
        description={
          <>
            <Link href={`/recipes/${build.recipeId}`}>{build.recipeName}</Link> revision {build.revision} on{" "}
            {build.baseImage} {build.baseVersion} · queued <RelativeTime date={build.queuedAt} /> by{" "}
            {build.requestedBy ?? "someone"}
          </>
        }
      />
      <BuildLive
        buildId={build.id}
        canCancel={build.can.cancel}
        canRetry={build.can.retry}
        fingerprint={build.fingerprint}
        configuredTimeLimitSeconds={Math.round(env().HANGAR_BUILD_TIMEOUT / 1000)}
        initial={{
          status: build.status,
          steps: build.steps,
          failureReason: build.failureReason,
          cancelRequested: build.cancelRequested,
          outputImage: build.outputImage,
          outputVersion: build.outputVersion,
          startedAt: build.startedAt?.toISOString() ?? null,
          finishedAt: build.finishedAt?.toISOString() ?? null,
          acceleration: build.acceleration,
          accelerationReason: build.accelerationReason,
          timeLimitSeconds: build.timeLimitSeconds,
        }}
        initialLogs={logs.map((line) => ({
          id: line.id,
          at: line.at.toISOString(),
          stream: line.stream,
          line: line.line,
        }))}
      />
    </div>
  );
}
