// `hangar pull`: a version's file, streamed to FILE.part while it is hashed, resumed by Range
// (If-Range, so a changed file starts over), and renamed into place only once its sha256 matches
// what Hangar published. Memory stays flat whatever the size.
import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import type http from "node:http";
import { once } from "node:events";
import { answerOf, apiUrl, connectionOf, errorFromResponse, request, segment } from "../client";
import { emit, stringValue, type Command } from "../command";
import { CliError, usageError } from "../errors";
import { formatBytes, progressMeter } from "../format";
import { describeRef, parseRef, resolveVersion, type ResolvedVersion } from "../refs";

const usage = "hangar pull REF [--format F] [-o FILE]";

async function refusal(response: http.IncomingMessage, what: string): Promise<CliError> {
  return errorFromResponse(await answerOf(response), what);
}

async function hashFile(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
}

const sizeOf = (file: string) =>
  stat(file).then(
    (info) => info.size,
    () => 0,
  );
const strongSha256Etag = (etag: string | undefined) => /^"([0-9a-f]{64})"$/.exec(etag ?? "")?.[1] ?? null;

/** The checksum the file must have, if the API gives one for what is asked. */
function publishedSha256(version: ResolvedVersion, format: string, converted: boolean): string | null {
  if (!converted) return version.sha256;
  return version.conversions?.find((entry) => entry.format === format)?.sha256 ?? null;
}

export const pull: Command = {
  usage,
  summary: "download a version, resumable, verified by sha256 before it is renamed into place",
  help: `REF is IMAGE (its latest approved version), IMAGE@CHANNEL, IMAGE:VERSION or a version id.
--format F   a finished conversion of the version (qcow2, raw, vmdk, vhdx) instead of its own file
-o FILE      where to write it (default IMAGE-VERSION.FORMAT in the current directory)
The download goes to FILE.part first; run the same command again after an interruption and it
continues where it stopped. A file whose sha256 does not match is deleted and the pull fails.`,
  options: { format: { type: "string" }, output: { type: "string", short: "o" } },
  async run(context) {
    const { io, values, positionals } = context;
    if (positionals.length !== 1) throw usageError("Say what to pull.", `Usage: ${usage}`);
    const ref = parseRef(positionals[0]!);
    const connection = await connectionOf(context.globals, io);
    const version = await resolveVersion(connection, ref);
    if (version.dataStatus && version.dataStatus !== "ready")
      throw new CliError(
        "not_ready",
        `${describeRef(ref)} is not ready to download (its data is ${version.dataStatus}).`,
      );
    const asked = stringValue(values.format);
    const converted = asked !== undefined && asked !== version.format;
    const format = asked ?? version.format ?? "img";
    const file = stringValue(values.output) ?? `${version.imageSlug}-${version.version}.${format}`;
    const part = `${file}.part`;
    const url = apiUrl(connection, `/api/v1/versions/${segment(version.id)}/download`, asked ? { format: asked } : {});
    const what = `the download of ${describeRef(ref)}`;

    let expected = publishedSha256(version, format, converted);
    let offset = await sizeOf(part);
    let etag = expected ? `"${expected}"` : null;
    if (offset > 0 && !etag) {
      const head = await request(connection, url, { method: "HEAD" });
      head.resume();
      if (head.statusCode !== 200) throw await refusal(head, what);
      etag = head.headers.etag ?? null;
    }
    let response = await request(
      connection,
      url,
      offset > 0 && etag ? { headers: { Range: `bytes=${offset}-`, "If-Range": etag } } : {},
    );
    if (response.statusCode === 416) {
      // The .part is as long as the file or longer: it can only be checked by starting over.
      response.resume();
      offset = 0;
      response = await request(connection, url);
    }
    const status = response.statusCode ?? 0;
    const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.headers["content-range"] ?? "");
    if (status === 206 && Number(range?.[1]) !== offset) {
      response.resume();
      throw new CliError("http_error", `The server sent a different range than asked for ${what}; run the pull again.`);
    }
    if (status !== 200 && status !== 206) throw await refusal(response, what);
    // 200 to a range request: the file changed (If-Range) or ranges are not served; start over.
    const resumedFrom = status === 206 ? offset : 0;
    expected ??= strongSha256Etag(response.headers.etag);

    const hash = createHash("sha256");
    if (resumedFrom > 0) await hashFile(part, hash);
    const length = Number(response.headers["content-length"] ?? NaN);
    const total = Number.isFinite(length) ? resumedFrom + length : range ? Number(range[2]) : null;
    const meter = progressMeter({
      enabled: io.stderrIsTty && !context.globals.json,
      write: (text) => process.stderr.write(text),
      label: file,
      total,
      startAt: resumedFrom,
    });
    // A deep write buffer lets the disk write while the next bytes arrive; at the 16 KiB default
    // every chunk waits for its write and the download runs at half speed.
    const output = createWriteStream(part, { flags: resumedFrom > 0 ? "a" : "w", highWaterMark: 8 * 1024 * 1024 });
    let fetched = 0;
    try {
      // Each chunk as the socket gives it: an async iterator would join the chunks waiting in the
      // stream into one new buffer (a copy of every byte) and wake a promise per read.
      await new Promise<void>((resolve, reject) => {
        response.on("data", (buffer: Buffer) => {
          hash.update(buffer);
          fetched += buffer.byteLength;
          meter.update(resumedFrom + fetched);
          if (!output.write(buffer)) {
            response.pause();
            output.once("drain", () => response.resume());
          }
        });
        response.once("end", resolve);
        response.once("error", reject);
        response.once("close", () => {
          if (!response.complete) reject(new Error("the connection closed early"));
        });
        output.once("error", reject);
      });
      output.end();
      await once(output, "close");
    } catch (error) {
      output.destroy();
      throw new CliError(
        "interrupted",
        `The download stopped after ${formatBytes(resumedFrom + fetched)} (${(error as Error).message}); run the same command again to resume it.`,
      );
    }
    meter.finish(resumedFrom + fetched);
    const size = resumedFrom + fetched;
    if (total !== null && size !== total) {
      throw new CliError(
        "interrupted",
        `The download stopped after ${formatBytes(size)} of ${formatBytes(total)}; run the same command again to resume it.`,
      );
    }
    const sha256 = hash.digest("hex");
    if (expected && sha256 !== expected) {
      await rm(part, { force: true });
      throw new CliError(
        "checksum_mismatch",
        `The downloaded file's sha256 is ${sha256}, but Hangar published ${expected} for ${describeRef(ref)}${resumedFrom ? " (the partial file from an earlier pull was damaged)" : ""}. The partial file was deleted; run the pull again.`,
      );
    }
    await rename(part, file);
    if (!expected)
      io.err(
        `hangar: warning: Hangar gave no checksum for the ${format} conversion, so ${file} is unverified (sha256 ${sha256}).`,
      );
    emit(
      context,
      {
        file,
        versionId: version.id,
        image: version.imageSlug,
        version: version.version,
        format,
        size,
        sha256,
        verified: expected !== null,
        resumedFrom,
        bytesFetched: fetched,
      },
      () =>
        `${file}: ${version.imageSlug} ${version.version} (${format}, ${formatBytes(size)}), sha256 ${sha256} ${expected ? "verified" : "UNVERIFIED"}${resumedFrom ? `; resumed at ${formatBytes(resumedFrom)}` : ""}.`,
    );
    return 0;
  },
};
