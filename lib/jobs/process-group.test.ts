// A run's process group must not outlive Hangar: killed with SIGKILL (no chance to clean up), the
// process that started it leaves nothing behind because the group's watcher sees its pipe close.
import { spawn } from "node:child_process";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { liveProcessesInGroup } from "@/tests/process-groups";
import { waitFor } from "@/tests/fixtures";
import { runInProcessGroup } from "./process-group";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

describe("runInProcessGroup", () => {
  it("passes the tool's exit code and output through the watching shell", async () => {
    const run = runInProcessGroup(
      "sh",
      ["-c", "echo \"$1 and 'quotes'\"; exit 7", "sh", "an argument with spaces"],
      {},
    );
    let output = "";
    run.stdout.on("data", (chunk) => (output += chunk));
    expect(await run.exit).toBe(7);
    expect(output).toBe("an argument with spaces and 'quotes'\n");
  });

  it("feeds `input` to the tool as fd 4, and stops the run with the input's error when it fails", async () => {
    const run = runInProcessGroup("sh", ["-c", "wc -c <&4"], {
      input: Readable.from([Buffer.alloc(3 * 1024 * 1024, 1), Buffer.from("end")]),
    });
    let output = "";
    run.stdout.on("data", (chunk) => (output += chunk));
    expect(await run.exit).toBe(0);
    expect(output.trim()).toBe(String(3 * 1024 * 1024 + 3));

    const failing = new PassThrough();
    const broken = runInProcessGroup("sh", ["-c", "cat <&4 > /dev/null; exit 0"], { input: failing });
    failing.write("some bytes");
    failing.destroy(new Error("the object store went away"));
    await expect(broken.exit).rejects.toThrow("the object store went away");
  });

  it("kills the whole group when the process that started it is killed with SIGKILL", async () => {
    const script = `import { runInProcessGroup } from ${JSON.stringify(path.join(root, "lib/jobs/process-group.ts"))};
const run = runInProcessGroup("sh", ["-c", "trap '' TERM; sleep 300 & sleep 301"], {});
console.log(run.pid);
await run.exit;`;
    const parent = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const group = await new Promise<number>((resolve) =>
      parent.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString()))),
    );
    await waitFor(
      () => Promise.resolve(liveProcessesInGroup(group)),
      (live) => live.some((line) => line.includes("sleep 301")),
      10_000,
    );
    parent.kill("SIGKILL");
    expect(
      await waitFor(
        () => Promise.resolve(liveProcessesInGroup(group)),
        (live) => live.length === 0,
        10_000,
      ),
    ).toEqual([]);
  });
});
