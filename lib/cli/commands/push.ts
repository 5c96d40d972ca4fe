// `hangar push`: a file uploaded as a new version over tus, the protocol the import page uses. The
// server hashes what it receives and prints nothing it has not checked. `--sha256 HEX` (the checksum
// a build pipeline already has) makes the server refuse any other file, at no cost here; `--verify`
// hashes the file on its way out and sends the result with the last part, for the same refusal
// without a checksum at hand (it costs a core for about a second per GiB). The upload's address is
// kept in the config directory, so running the same command after Ctrl-C or a dropped connection
// continues where it stopped. Then it waits for the version to be ready.
import { mkdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { DetailedError, HttpRequest, UploadOptions } from "tus-js-client";
import { EXPECTED_SHA256_HEADER, VERSION_ID_HEADER } from "@/lib/imports/upload-protocol";
import { answerOf, api, connectionOf, request, segment, unreachable, type Connection } from "../client";
import { emit, stringValue, type Command } from "../command";
import { configDir } from "../config";
import { CliError, usageError } from "../errors";
import { formatBytes, progressMeter } from "../format";
import { filePartHttpStack, HashingFileSource } from "../upload-source";

const usage =
  "hangar push FILE --image SLUG --version V [--format F] [--sha256 HEX | --verify] [--chunk-size SIZE] [--no-wait]";
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

async function uploadState(connection: Connection, url: string) {
  const response = await answerOf(
    await request(connection, url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } }),
  );
  return parseUploadMetadata(response.headers["upload-metadata"] as string | undefined);
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
--sha256 HEX      the file's expected sha256: the server refuses the file if it differs
--verify          hash the file while sending it, and have the server refuse it if what arrived differs
--chunk-size SIZE send the file in PATCH requests of this size (for proxies that cap bodies)
--no-wait         return once the upload has finished, without waiting for the checks
Interrupted (Ctrl-C, a dropped connection)? Run the same command again: it resumes.
Exit status 1 when the server refuses the file, with its reason.`,
  options: {
    image: { type: "string" },
    version: { type: "string" },
    format: { type: "string" },
    "chunk-size": { type: "string" },
    sha256: { type: "string" },
    verify: { type: "boolean" },
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
    const expected = stringValue(values.sha256)?.trim().toLowerCase();
    if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected))
      throw new CliError("usage", "--sha256 takes the file's sha256: 64 hexadecimal characters.");
    if (expected !== undefined && values.verify)
      throw new CliError("usage", "Give --sha256 or --verify, not both: with --sha256 the server checks the file.");
    const connection = await connectionOf(context.globals, io);
    // Loaded here: only push needs it. Its Node build also exports a file-backed URL store that the
    // type declarations leave out.
    const tus = await import("tus-js-client");
    const meterEnabled = io.stderrIsTty && !context.globals.json;
    const source = new HashingFileSource(file, info.size, values.verify === true);

    const dir = configDir(io.environment);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fingerprint = [
      "hangar-push",
      connection.url,
      await realpath(file),
      info.size,
      info.mtimeMs,
      info.ino,
      image,
      label,
      expected ?? (source.hashing ? "verify" : ""),
    ].join(" ");
    let versionId: string | undefined;
    let resumedFrom: number | null = null;
    let sent = 0;
    let receivedSha256: string | null = null;
    const meter = progressMeter({
      enabled: meterEnabled,
      write: (text) => process.stderr.write(text),
      label: path.basename(file),
      total: info.size,
    });

    const { FileUrlStorage } = tus as unknown as {
      FileUrlStorage: new (file: string) => NonNullable<UploadOptions["urlStorage"]>;
    };
    // tus-js-client cuts the file into parts of `chunkSize` bytes. By default the file goes in one
    // PATCH; with --verify the first part is all but the last byte, then a one-byte one carries the sha256.
    const partBytes = chunkSize
      ? parseByteSize(chunkSize)
      : source.hashing
        ? Math.max(1, info.size - 1)
        : Number.POSITIVE_INFINITY;
    const upload = new tus.Upload(file as unknown as Blob, {
      endpoint: `${connection.url}/api/uploads`,
      headers: { Authorization: `Bearer ${connection.token}`, "User-Agent": "hangar-cli" },
      metadata: {
        // By slug: the server looks it up (and refuses a missing one) when the upload is created.
        image,
        version: label,
        filename: path.basename(file),
        format: stringValue(values.format) ?? "detect",
        ...(expected ? { sha256: expected } : {}),
      },
      uploadSize: info.size,
      chunkSize: partBytes,
      fileReader: { openFile: async () => source },
      httpStack: filePartHttpStack,
      urlStorage: new FileUrlStorage(path.join(dir, "uploads.json")),
      fingerprint: async () => fingerprint,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      // 34 s in all: longer than a process's 30 s lease, so when the web process receiving the upload
      // dies (with blobs in a bucket) another one takes it over before push gives up.
      retryDelays: [0, 1000, 3000, 5000, 10000, 15000],
      // A dropped connection, a server error or a moved offset (409 to a PATCH) is worth another try;
      // a refusal (a taken version label, a bad token, over quota) is not.
      onShouldRetry(error, retryAttempt) {
        const status = error.originalResponse?.getStatus() ?? 0;
        const method = error.originalRequest?.getMethod();
        // A server that can't be reached before the upload exists is said after ~4 s, not 34.
        if (method === "POST" && status === 0 && retryAttempt >= 2) return false;
        return status === 0 || status >= 500 || status === 423 || (status === 409 && method === "PATCH");
      },
      async onBeforeRequest(outgoing: HttpRequest) {
        if (outgoing.getMethod() !== "PATCH") return;
        const offset = Number(outgoing.getHeader("Upload-Offset") ?? 0);
        resumedFrom ??= offset;
        if (source.sha256 && offset === source.lastPartStart) outgoing.setHeader(EXPECTED_SHA256_HEADER, source.sha256);
        // Resuming, this run made no POST: the version is named in the session's metadata, readable
        // until the upload finishes.
        versionId ??= (await uploadState(connection, outgoing.getURL())).versionId;
      },
      // The server answers the PATCH that completes the upload with the sha256 of what it received.
      onAfterResponse(_request, response) {
        versionId ??= response.getHeader(VERSION_ID_HEADER);
        receivedSha256 = response.getHeader("Hangar-Sha256") ?? receivedSha256;
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
      sha256: state?.sha256 ?? receivedSha256,
      checkedAgainst: expected ? "--sha256" : source.hashing ? "--verify" : null,
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
        `Pushed ${path.basename(file)} as ${image} ${label} (${formatBytes(info.size)}${result.resumedFrom ? `, resumed at ${formatBytes(result.resumedFrom)}` : ""}): ${result.dataStatus}${state?.releaseStatus ? `, ${state.releaseStatus}` : ""}. Version id ${versionId}.${result.sha256 ? `\nsha256 ${result.sha256}${expected ? " (matches --sha256)" : source.hashing ? " (matches the file as hashed here while sending)" : ""}` : ""}`,
    );
    return 0;
  },
};
