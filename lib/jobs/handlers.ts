import { applyDueScheduledReleases } from "@/db/queries/releases";
import { makePlatformArtifacts } from "@/lib/feeds/artifacts";
import { runBuild } from "@/lib/builds/engine";
import { runClone } from "@/lib/clones/engine";
import { runBootTest } from "@/lib/content/boot-test";
import { runDemoDebianImage } from "@/lib/content/demo-debian";
import { runFileDiff } from "@/lib/content/file-diff";
import { runContentScan } from "@/lib/content/scan";
import { runConversion } from "@/lib/imports/convert";
import { runUrlImport } from "@/lib/imports/url-import";
import { runAllRetention } from "@/lib/retention/run";
import { runBlobChecksums } from "@/lib/storage/checksums";
import { runWebhookDelivery } from "@/lib/webhooks/deliver";
import { queueReleaseEvent } from "@/lib/webhooks/events";
import type { JobHandlers } from "./queue";

export const jobHandlers: JobHandlers = {
  "image.import-url": (data, { signal }) => runUrlImport(data, { signal }),
  "image.convert": (data, { signal }) => runConversion(data, { signal }),
  "image.build": (data, { signal, timeLimitMs }) => runBuild(data, { signal, timeLimitMs }),
  "image.clone": async (data, { signal }) => void (await runClone(data, { signal })),
  "release.apply-scheduled": async () =>
    void (await applyDueScheduledReleases({
      onApplied: ({ versionId, actorId, action }) => queueReleaseEvent({ versionId, actorId, extra: { action } }),
    })),
  "retention.run": async () => void (await runAllRetention()),
  "content.inspect": async (data, { signal }) => void (await runContentScan(data, { signal })),
  "content.diff": (data, { signal }) => runFileDiff(data, { signal }),
  "image.boot-test": (data, { signal }) => runBootTest(data, { signal }),
  "demo.debian-image": (data, { signal }) => runDemoDebianImage(data, { signal }),
  "webhook.deliver": (data, { signal }) => runWebhookDelivery(data, { signal }),
  "blob.checksums": (data, { signal }) => runBlobChecksums(data, { signal }),
  "feed.artifacts": (data, { signal }) => makePlatformArtifacts(data, { signal }),
};
