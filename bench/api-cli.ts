// The CLI against the native tools, on the real app over loopback, interleaved rounds, medians:
//   pull_vs_curl    `hangar pull` of a 1 GiB random version (hashing as it writes, verified before
//                   the rename) / `curl -o` of the same URL with the same token followed by
//                   `openssl dgst -sha256` (the anchor: what a script does to get the same
//                   guarantee). Each round also prints `curl -o` alone, to show what checking costs.
//   push_vs_import  `hangar push` of a 1 GiB file (tus, the server hashes and inspects, wait for
//                   ready) / the tus upload the browser makes (one POST, one PATCH of the whole file),
//                   until the version is ready, polled as often as the CLI polls.
//   push_verify_vs_hash_first
//                   `hangar push --verify` (the file hashed here while it is sent, the server refusing
//                   it if what arrived differs) / what a script does for the same check without it:
//                   `openssl dgst -sha256` of the file, then `hangar push --sha256`.
// Both sides pay their process start-up.
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { and, eq } from "drizzle-orm";
import { closeDb, db } from "../db/client";
import { freePort } from "../db/embedded";
import { getViewerById } from "../db/queries/users";
import { imageVersions } from "../db/schema";
import { createTokenFor } from "../lib/api/tokens";
import { startBenchApp, startUploadBench, tusUploadWhole } from "./import";
import { median, type BenchRow } from "./report";

const exec = promisify(execFile);
const SIZE = Number(process.env.BENCH_CLI_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_CLI_ROUNDS ?? 3);
const TARGET = 1.1;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

export async function cliRows(): Promise<BenchRow[]> {
  const { work, dataDir, source, database, password, adminId, image } = await startUploadBench("hangar-bench-cli-");
  let app: Awaited<ReturnType<typeof startBenchApp>> | undefined;
  try {
    const owner = await getViewerById({ id: adminId });
    const { secret: token } = await createTokenFor({
      actorId: adminId,
      owner: owner!,
      name: "bench",
      scope: "write",
      expiresInDays: 1,
    });

    console.log(`Writing ${SIZE} random bytes...`);
    await exec("sh", ["-c", `head -c ${SIZE} /dev/urandom > '${source}'`]);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    app = await startBenchApp({ database, dataDir, password, port, workers: 0 });
    const cliEnv = {
      ...process.env,
      HANGAR_URL: origin,
      HANGAR_TOKEN: token,
      XDG_CONFIG_HOME: path.join(work, "config"),
    };
    const hangar = (args: string[]) =>
      exec(process.execPath, [path.join(root, "bin/hangar.mjs"), ...args], {
        env: cliEnv,
        cwd: work,
        maxBuffer: 1 << 24,
      });

    const tusUpload = async (version: string) => {
      await tusUploadWhole({
        port,
        auth: { Authorization: `Bearer ${token}` },
        imageId: image.id,
        version,
        file: source,
        size: SIZE,
      });
      // The browser's page waits for the checks too; the same 250 ms → 1 s back-off as the CLI.
      for (let delay = 250; ; delay = Math.min(delay * 2, 1000)) {
        const [row] = await db()
          .select({ dataStatus: imageVersions.dataStatus })
          .from(imageVersions)
          .where(and(eq(imageVersions.imageId, image.id), eq(imageVersions.version, version)));
        if (row?.dataStatus === "ready") return;
        if (row?.dataStatus === "failed") throw new Error(`import of ${version} failed`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    };

    // Warm both paths (module loading, tsx's compile cache) before anything is timed.
    await tusUpload("warm-import");
    await hangar(["push", source, "--image", "bench-image", "--version", "warm-cli", "--format", "raw"]);
    const [version] = await db()
      .select({ id: imageVersions.id })
      .from(imageVersions)
      .where(eq(imageVersions.version, "warm-import"));
    const url = `${origin}/api/v1/versions/${version!.id}/download`;
    const pulled = path.join(work, "pulled.img");
    const curled = path.join(work, "curled.img");

    const push: number[] = [];
    const pushVerify: number[] = [];
    const hashFirst: number[] = [];
    const imports: number[] = [];
    const pull: number[] = [];
    const curl: number[] = [];
    const curlSha: number[] = [];
    const pushArgs = (version: string, ...extra: string[]) => [
      "push",
      source,
      "--image",
      "bench-image",
      "--version",
      version,
      "--format",
      "raw",
      ...extra,
    ];
    // Each measurement starts with the disk quiet: the one before wrote a GiB the kernel is still
    // flushing, which slowed whatever ran second. The order inside each pair also alternates.
    const settled = async (fn: () => Promise<unknown>) => {
      await exec("sync");
      return timed(fn);
    };
    const inTurn = async (round: number, first: () => Promise<void>, second: () => Promise<void>) => {
      if (round % 2 === 0) {
        await first();
        await second();
      } else {
        await second();
        await first();
      }
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      await inTurn(
        round,
        async () => void imports.push(await settled(() => tusUpload(`import-${round}`))),
        async () => void push.push(await settled(() => hangar(pushArgs(`cli-${round}`)))),
      );
      await inTurn(
        round,
        async () => void pushVerify.push(await settled(() => hangar(pushArgs(`cli-verify-${round}`, "--verify")))),
        async () =>
          void hashFirst.push(
            await settled(async () => {
              const { stdout } = await exec("openssl", ["dgst", "-sha256", "-r", source]);
              await hangar(pushArgs(`cli-sha-${round}`, "--sha256", stdout.split(" ")[0]!));
            }),
          ),
      );
      await inTurn(
        round,
        async () => {
          await rm(curled, { force: true });
          const curlSeconds = await settled(() =>
            exec("curl", ["-sSf", "-H", `Authorization: Bearer ${token}`, "-o", curled, url]),
          );
          curl.push(curlSeconds);
          curlSha.push(curlSeconds + (await timed(() => exec("openssl", ["dgst", "-sha256", curled]))));
        },
        async () => {
          await rm(pulled, { force: true });
          pull.push(await settled(() => hangar(["pull", version!.id, "-o", pulled])));
        },
      );
      console.log(
        `round ${round}: push ${push.at(-1)!.toFixed(2)} s, import ${imports.at(-1)!.toFixed(2)} s, push --verify ${pushVerify.at(-1)!.toFixed(2)} s, openssl dgst + push --sha256 ${hashFirst.at(-1)!.toFixed(2)} s, pull ${pull.at(-1)!.toFixed(2)} s, curl ${curl.at(-1)!.toFixed(2)} s (+openssl dgst ${curlSha.at(-1)!.toFixed(2)} s)`,
      );
    }
    const row = (metric: string, ours: number[], theirs: number[], what: string): BenchRow => {
      const value = median(ours);
      const anchor = median(theirs);
      return {
        metric,
        value,
        unit: "s",
        anchor,
        ratio: value / anchor,
        target: `<= ${TARGET} × ${what} (median of ${ROUNDS}, ${SIZE} bytes)`,
        pass: value / anchor <= TARGET,
      };
    };
    return [
      row("pull_vs_curl", pull, curlSha, "curl -o, then openssl dgst -sha256"),
      row("push_vs_import", push, imports, "the browser's tus upload until ready"),
      row("push_verify_vs_hash_first", pushVerify, hashFirst, "openssl dgst -sha256, then push --sha256"),
    ];
  } finally {
    app?.kill("SIGTERM");
    await closeDb();
    await database.stop();
    await rm(work, { recursive: true, force: true });
  }
}
