// Files Hangar produces itself (conversions, build outputs, full clones) are checked like uploads.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { qemuImgCreate } from "@/lib/images/qemu-img";
import { checkProducedFile } from "./ingest";

describe("checkProducedFile", () => {
  it("refuses an output whose virtual size is above the global cap, as an upload would be", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-ingest-"));
    const grown = path.join(dir, "grown.qcow2");
    await qemuImgCreate({ path: grown, format: "qcow2", sizeBytes: 3 * 1024 ** 4 });
    const checked = await checkProducedFile(grown, "qcow2");
    expect(checked.report).toMatchObject({ format: "qcow2", virtualSize: 3 * 1024 ** 4, safe: true });
    expect(checked.refusal).toMatch(
      /virtual size is 3 TiB \(3298534883328 bytes\), above the 2 TiB this Hangar accepts \(the HANGAR_MAX_VIRTUAL_SIZE setting\)/,
    );
    const fine = path.join(dir, "fine.qcow2");
    await qemuImgCreate({ path: fine, format: "qcow2", sizeBytes: 2 * 1024 ** 4 });
    expect((await checkProducedFile(fine, "qcow2")).refusal).toBeNull();
  });
});
