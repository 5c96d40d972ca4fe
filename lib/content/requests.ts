// Asking for a blob's content to be read. A version that becomes ready with new bytes records the
// request in its own transaction (insertContentScanRequest); the job is sent once that commits. A
// job lost between the two (the process died) is sent again by the start-up reconcile, which also
// requests scans for ready versions that have none. Conversion outputs are never scanned: same content.
import { requestContentScan, requestMissingContentScans } from "@/db/queries/content-scans";
import { enqueue } from "@/lib/jobs/queue";

/**
 * What someone just uploaded, built or cloned is read before the backlog the start-up reconcile
 * queues (a first start queues every demo version): pg-boss takes higher priorities first.
 */
const FRESH_PRIORITY = 1;

/** Sends the inspection job for a blob whose request is recorded. Never throws: the reconcile resends a lost one. */
export async function sendContentScan(sha256: string): Promise<void> {
  try {
    await enqueue("content.inspect", { sha256 }, { priority: FRESH_PRIORITY });
  } catch (error) {
    console.error(`could not queue the content inspection of ${sha256}; it is sent again at the next start`, error);
  }
}

/** Requests a blob's scan (again, when it failed or was cancelled) and sends its job; false when one is already queued, running or done. */
export async function requestAndSendContentScan(sha256: string): Promise<boolean> {
  const send = await requestContentScan({ sha256 });
  if (send) await enqueue("content.inspect", { sha256 }, { priority: FRESH_PRIORITY });
  return send;
}

/** At worker start: one insert..select for ready versions without a scan, then a job for every queued scan. */
export async function reconcileContentScans({
  log = console.log,
}: { log?: (line: string) => void } = {}): Promise<number> {
  const queued = await requestMissingContentScans();
  for (const sha256 of queued) await enqueue("content.inspect", { sha256 });
  if (queued.length > 0) log(`Content inspection queued for ${queued.length} image file(s) not read yet.`);
  return queued.length;
}
