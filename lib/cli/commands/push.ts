// `hangar push`: a file uploaded as a new version over tus, the protocol the import page uses. The
// sha256 is computed first and sent along, so the server refuses a file that arrived damaged. The
// upload's address is kept in the config directory, so running the same command after Ctrl-C or a
// dropped connection continues where it stopped. Then it waits for the version to be ready.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { DetailedError, HttpRequest, UploadOptions } from "tus-js-client";
import { api, connectionOf, segment, unreachable, type Connection } from "../client";
import { emit, stringValue, type Command } from "../command";
import { configDir } from "../config";
import { CliError, usageError } from "../errors";
import { formatBytes, progressMeter } from "../format";

const usage = "hangar push FILE --image SLUG --version V [--format F] [--chunk-size SIZE] [--no-wait]";
const FINISHED = new Set(["ready", "failed"]);

interface VersionState {
  id: string;
  version: string;
  dataStatus: string;
  releaseStatus?: string;
  sha256: string | null;
  failureReason: string | null;
}

export function parseByteSize(text: string): number {
  const match = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  if (!match) throw new CliError("usage", `“${text}” is not a size; use bytes or a suffix such as 8M.`);
  const power = { "": 0, k: 1, m: 2, g: 3 }[match[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  const bytes = Number(match[1]) * 1024 ** power;
  if (bytes < 1) throw new CliError("usage", "The chunk size must be at least one byte.");
  return bytes;
}

/** tus metadata: `key base64(value)` pairs separated by commas. */
export function parseUploadMetadata(header: string | null | undefined): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const pair of (header ?? "").split(",")) {
    const [key, value] = pair.trim().split(" ");
    if (key) entries[key] = value ? Buffer.from(value, "base64").toString("utf8") : "";
  }
  return entries;
}

async function sha256Of(file: string, size: number, meterEnabled: boolean): Promise<string> {
  const hash = createHash("sha256");
  const meter = progressMeter({
    enabled: meterEnabled,
    write: (text) => process.stderr.write(text),
    label: "sha256",
    total: size,
  });
  let done = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).byteLength;
    meter.update(done);
  }
  meter.finish(done);
  return hash.digest("hex");
}

async function uploadState(connection: Connection, url: string) {
  const response = await fetch(url, {
    method: "HEAD",
    headers: { Authorization: `Bearer ${connection.token}`, "Tus-Resumable": "1.0.0" },
  }).catch((error: unknown) => {
    throw unreachable(connection.url, error);
  });
  return parseUploadMetadata(response.headers.get("upload-metadata"));
}

function uploadError(connection: Connection, error: Error): CliError {
  const response = (error as DetailedError).originalResponse;
  if (!response) return unreachable(connection.url, (error as DetailedError).causingError ?? error);
  const body = response.getBody();
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
    if (parsed.error?.message) {
      const refused = parsed.error.code === "refused";
      return new CliError(
        parsed.error.code ?? "http_error",
        refused ? `Hangar refused the upload: ${parsed.error.message}` : parsed.error.message,
        response.getStatus(),
      );
    }
  } catch {
    // tus's own plain-text refusals.
  }
  return new CliError(
    "http_error",
    `The upload failed: ${response.getStatus()} ${body.slice(0, 200)}`,
    response.getStatus(),
  );
}

async function waitForVersion(connection: Connection, versionId: string): Promise<VersionState> {
  // Checks of a large file take seconds: a short cap keeps the answer close to the moment it is known.
  for (let delay = 250; ; delay = Math.min(delay * 2, 1000)) {
    const state = await api<VersionState>(connection, `/api/v1/versions/${segment(versionId)}`);
    if (FINISHED.has(state.dataStatus)) return state;
    await sleep(delay);
  }
}

export const push: Command = {
  usage,
  summary: "upload a file as a new version (resumable), then wait until it is ready or refused",
  help: `--image SLUG      the image the version belongs to
--version V       the new version's label
--format F        the format the file claims to be (default: detected by the server)
--chunk-size SIZE send the file in PATCH requests of this size (for proxies that cap bodies)
--no-wait         return once the upload has finished, without waiting for the checks
Interrupted (Ctrl-C, a dropped connection)? Run the same command again: it resumes.
Exit status 1 when the server refuses the file, with its reason.`,
  options: {
    image: { type: "string" },
    version: { type: "string" },
    format: { type: "string" },
    "chunk-size": { type: "string" },
    "no-wait": { type: "boolean" },
  },
  async run(context) {
    const { io, values, positionals } = context;
    const image = stringValue(values.image);
    const label = stringValue(values.version);
    if (positionals.length !== 1 || !image || !label)
      throw usageError(
        positionals.length !== 1 ? "Say which file to push." : "Say which image and version: --image SLUG --version V.",
        `Usage: ${usage}`,
      );
    const file = path.resolve(positionals[0]!);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new CliError("usage", `${positionals[0]} is not a readable file.`);
    const chunkSize = stringValue(values["chunk-size"]);
    const connection = await connectionOf(context.globals, io);
    const target = await api<{ id: string; slug: string }>(connection, `/api/v1/images/${segment(image)}`);
    const meterEnabled = io.stderrIsTty && !context.globals.json;
    const sha256 = await sha256Of(file, info.size, meterEnabled);

    const dir = configDir(io.environment);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fingerprint = [
      "hangar-push",
      connection.url,
      await realpath(file),
      info.size,
      info.mtimeMs,
      image,
      label,
      sha256,
    ].join(" ");
    let versionId: string | undefined;
    let resumedFrom: number | null = null;
    let sent = 0;
    const meter = progressMeter({
      enabled: meterEnabled,
      write: (text) => process.stderr.write(text),
      label: path.basename(file),
      total: info.size,
    });

    // Loaded here, not at start-up: only push needs it. Its Node build also exports a file-backed
    // URL store that the type declarations leave out.
    const tus = await import("tus-js-client");
    const { FileUrlStorage } = tus as unknown as {
      FileUrlStorage: new (file: string) => NonNullable<UploadOptions["urlStorage"]>;
    };
    const upload = new tus.Upload(createReadStream(file), {
      endpoint: `${connection.url}/api/uploads`,
      headers: { Authorization: `Bearer ${connection.token}`, "User-Agent": "hangar-cli" },
      metadata: {
        imageId: target.id,
        version: label,
        filename: path.basename(file),
        format: stringValue(values.format) ?? "detect",
        sha256,
      },
      uploadSize: info.size,
      chunkSize: chunkSize ? parseByteSize(chunkSize) : Number.POSITIVE_INFINITY,
      urlStorage: new FileUrlStorage(path.join(dir, "uploads.json")),
      fingerprint: async () => fingerprint,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      retryDelays: [0, 1000, 3000],
      // A dropped connection, a server error or a moved offset (409 to a PATCH) is worth another try;
      // a refusal (a taken version label, a bad token, over quota) is not.
      onShouldRetry(error) {
        const status = error.originalResponse?.getStatus() ?? 0;
        const method = error.originalRequest?.getMethod();
        return status === 0 || status >= 500 || status === 423 || (status === 409 && method === "PATCH");
      },
      // The version the upload creates is named in the session's metadata, readable only until it finishes.
      async onBeforeRequest(request: HttpRequest) {
        if (request.getMethod() !== "PATCH") return;
        resumedFrom ??= Number(request.getHeader("Upload-Offset") ?? 0);
        versionId ??= (await uploadState(connection, request.getURL())).versionId;
      },
      onProgress(bytes) {
        sent = bytes;
        meter.update(bytes);
      },
    });

    const finished = new Promise<void>((resolve, reject) => {
      upload.options.onSuccess = () => resolve();
      upload.options.onError = (error) => reject(uploadError(connection, error));
    });
    let interrupted = false;
    // Ctrl-C and a supervisor's SIGTERM may both arrive: stop once.
    const onInterrupt = () => {
      if (interrupted) return;
      interrupted = true;
      void upload.abort().finally(() => {
        const message = `push interrupted after ${formatBytes(sent)} of ${formatBytes(info.size)}; run the same command again to resume.`;
        io.err(
          context.globals.json ? JSON.stringify({ error: { code: "interrupted", message } }) : `\nhangar: ${message}`,
        );
        process.exit(130);
      });
    };
    process.on("SIGINT", onInterrupt);
    process.on("SIGTERM", onInterrupt);
    try {
      const previous = await upload.findPreviousUploads();
      if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
      await finished;
    } finally {
      process.removeListener("SIGINT", onInterrupt);
      process.removeListener("SIGTERM", onInterrupt);
    }
    if (interrupted) return 1;
    meter.finish(info.size);
    if (!versionId)
      throw new CliError("http_error", "The upload finished, but the server did not say which version it made.");
    const state = values["no-wait"] ? null : await waitForVersion(connection, versionId);
    const result = {
      versionId,
      image,
      version: label,
      size: info.size,
      sha256,
      dataStatus: state?.dataStatus ?? "uploaded",
      releaseStatus: state?.releaseStatus ?? null,
      failureReason: state?.failureReason ?? null,
      resumedFrom: resumedFrom ?? 0,
      bytesSent: info.size - (resumedFrom ?? 0),
    };
    if (state?.dataStatus === "failed") {
      if (context.globals.json) io.out(JSON.stringify(result, null, 2));
      throw new CliError("refused", `Hangar refused ${image} ${label}: ${state.failureReason ?? "no reason given"}`);
    }
    emit(
      context,
      result,
      () =>
        `Pushed ${path.basename(file)} as ${image} ${label} (${formatBytes(info.size)}${result.resumedFrom ? `, resumed at ${formatBytes(result.resumedFrom)}` : ""}): ${result.dataStatus}${state?.releaseStatus ? `, ${state.releaseStatus}` : ""}. Version id ${versionId}.`,
    );
    return 0;
  },
};
