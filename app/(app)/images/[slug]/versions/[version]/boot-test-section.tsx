import { BootTestPanel, type BootTestView } from "@/components/boot-tests/boot-test-panel";
import { canInProject, isAdmin } from "@/db/queries/access";
import { getBootSettings, getBootTestLogs, getLatestBootTest } from "@/db/queries/boot-tests";
import type { Viewer } from "@/db/queries/users";
import type { ReleaseStatus } from "@/db/enums";
import { blockedStatuses, statusWords } from "@/lib/governance/release";

/** The version page's boot test: the latest test, its console so far, and who may start one. */
export async function BootTestSection({
  viewer,
  version,
}: {
  viewer: Viewer;
  version: { id: string; imageId: string; projectId: string; releaseStatus: string; dataStatus: string };
}) {
  const [latest, settings] = await Promise.all([
    getLatestBootTest({ viewer, versionId: version.id }),
    getBootSettings({ viewer, imageId: version.imageId }),
  ]);
  const lines = latest ? await getBootTestLogs({ bootTestId: latest.id, limit: 5000 }) : [];
  const status = version.releaseStatus as ReleaseStatus;
  const refusal =
    version.dataStatus !== "ready"
      ? "Boot tests run once the version is ready."
      : blockedStatuses.includes(status) && !isAdmin(viewer)
        ? `This version is ${statusWords[status]}: only an admin may boot-test it.`
        : null;
  const view: BootTestView | null = latest
    ? {
        ...latest,
        queuedAt: latest.queuedAt.toISOString(),
        startedAt: latest.startedAt?.toISOString() ?? null,
        finishedAt: latest.finishedAt?.toISOString() ?? null,
      }
    : null;
  return (
    <BootTestPanel
      key={latest?.id ?? "none"}
      versionId={version.id}
      initial={view}
      initialLines={lines.map((line) => ({ id: line.id, line: line.line }))}
      canRequest={canInProject(viewer, version.projectId, "contribute")}
      refusal={refusal}
      required={settings?.required ?? false}
    />
  );
}
