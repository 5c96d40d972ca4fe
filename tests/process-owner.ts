// A registered process holding work, for lib/processes/sweep.test.ts: run with tsx as its own OS
// process, it finalises an upload, runs a conversion, writes a temp file and has a blob write in
// flight (bytes put, nothing referring to them), prints what it holds as one JSON line, then waits
// until it is killed (SIGKILL: it just dies; SIGTERM: it deregisters first, as Hangar does).
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { closeDb } from "@/db/client";
import { setConversionState } from "@/db/queries/conversions";
import { startUploadFinalisation } from "@/db/queries/uploads";
import { env } from "@/lib/env";
import { beginBlobWrite } from "@/lib/processes/blob-writes";
import { registerProcess } from "@/lib/processes/registry";
import { createTempPath, getBlobStore } from "@/lib/storage";

const { OWNER_UPLOAD_ID, OWNER_VERSION_ID, OWNER_CONVERSION_ID } = process.env;
const registered = await registerProcess({ kind: "worker", heartbeatMs: 300 });
const tempPath = await createTempPath({ root: env().dataDir, prefix: "owner" });
await writeFile(tempPath, "being written");
const bytes = Buffer.from(`bytes in flight from ${registered.id}`);
const sha256 = createHash("sha256").update(bytes).digest("hex");
await beginBlobWrite(sha256);
const blobTemp = await createTempPath({ root: env().dataDir, prefix: "owner-blob" });
await writeFile(blobTemp, bytes);
await getBlobStore().putFromTempFile({ tempPath: blobTemp, sha256, size: bytes.length });
await startUploadFinalisation({ uploadId: OWNER_UPLOAD_ID!, versionId: OWNER_VERSION_ID!, processId: registered.id });
await setConversionState(OWNER_CONVERSION_ID!, { status: "running", processId: registered.id });
process.on("SIGTERM", () => {
  void registered
    .deregister()
    .then(() => closeDb())
    .finally(() => process.exit(0));
});
console.log(JSON.stringify({ id: registered.id, tempPath, sha256 }));
setInterval(() => {}, 60_000);
