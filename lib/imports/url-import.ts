// A URL import runs as a job: download through the SSRF-checked fetcher into a private temp file,
// through the same ingest pass (hashes + inspector) as uploads, with the quota enforced while
// the bytes arrive, then the same finalisation.
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { getUrlImportTarget, reserveImportBytes } from "@/db/queries/imports";
import { failImport, recordImportProgress, setVersionDataStatus } from "@/db/queries/uploads";
import type { DiskFormat } from "@/db/schema";
import { HangarError } from "@/lib/errors";
import { env } from "@/lib/env";
import { formatBytes } from "@/lib/format";
import { jobStopped } from "@/lib/jobs/job-run";
import { createTempPath } from "@/lib/storage";
import { queueVersionEvent } from "@/lib/webhooks/events";
import { finalizeImport, ImportRefused } from "./finalize";
import { IngestSession } from "./ingest";
import { defaultUrlPolicy, openUrl, UrlRefused, type UrlPolicy } from "./url-fetch";

export interface UrlImportJob {
  versionId: string;
  url: string;
  claimedFormat: DiskFormat | null;
  expectedSha256: string | null;
  actorId: string;
}

export function urlPolicyFromEnv(): UrlPolicy {
  const { HANGAR_URL_IMPORT_PORTS: ports, HANGAR_URL_IMPORT_ALLOW_ADDRESSES: addresses } = env();
  return {
    ...defaultUrlPolicy,
    allowedPorts: [...defaultUrlPolicy.allowedPorts, ...ports],
    allowedAddresses: addresses,
  };
}

export async function runUrlImport(
  job: UrlImportJob,
  { signal, policy = urlPolicyFromEnv() }: { signal?: AbortSignal; policy?: UrlPolicy } = {},
) {
  const row = await getUrlImportTarget({ versionId: job.versionId });
  // A retried job whose version already finished (or was cancelled) has nothing left to do.
  if (!row || !["queued", "importing"].includes(row.dataStatus)) return;
  await setVersionDataStatus({ versionId: job.versionId, status: "importing" });
  const tempPath = await createTempPath({ root: env().dataDir, prefix: "url" });
  const session = new IngestSession(job.claimedFormat);
  try {
    const fetched = await openUrl(job.url, { policy, signal });
    // The same quota rule as an upload's declared size, once the server has said how large the file is.
    const free = await reserveImportBytes({ versionId: job.versionId, bytes: fetched.contentLength }).catch(
      (error: unknown) => {
        throw error instanceof HangarError ? new ImportRefused(error.message) : error;
      },
    );
    let lastProgress = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (session.bytes + chunk.length > Math.min(free, policy.maxBytes)) {
          callback(
            new ImportRefused(
              `The download passed the project's free quota (${formatBytes(Math.max(free, 0))}) and was stopped; nothing was kept.`,
            ),
          );
          return;
        }
        session.write(chunk).then(() => {
          const now = Date.now();
          if (now - lastProgress > 1000) {
            lastProgress = now;
            void recordImportProgress({ versionId: job.versionId, bytesReceived: session.bytes }).catch(() => {});
          }
          callback(null, chunk);
        }, callback);
      },
    });
    await pipeline(fetched.body, tap, createWriteStream(tempPath, { mode: 0o600 }), { signal });
  } catch (error) {
    session.abort();
    await rm(tempPath, { force: true });
    if (error instanceof UrlRefused) console.warn(`URL import refused: ${error.detail}`);
    const reason =
      error instanceof ImportRefused
        ? error.reason
        : error instanceof UrlRefused
          ? error.userMessage
          : signal?.aborted
            ? (jobStopped(signal)?.message ?? "The import was stopped before it finished; start it again.")
            : "The download failed part-way. Check that the link works and try again.";
    await failImport({ versionId: job.versionId, actorId: job.actorId, reason });
    await queueVersionEvent("version.failed", { versionId: job.versionId, actorId: job.actorId, extra: { reason } });
    return;
  }
  // finalizeImport records its own refusal on the version.
  await finalizeImport({
    versionId: job.versionId,
    actorId: job.actorId,
    tempPath,
    ingest: await session.finish(),
    expectedSha256: job.expectedSha256,
    quotaBytes: row.quotaBytes,
  }).catch((error: unknown) => {
    if (!(error instanceof ImportRefused)) throw error;
  });
}
