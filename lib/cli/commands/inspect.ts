// `hangar inspect [--format F] FILE` vets a disk image with the same streaming inspector and
// qemu-img cross-check as uploads, for operators and for tests. It runs locally, without a server.
import { stat } from "node:fs/promises";
import { stringValue, type Command } from "../command";
import { CliError, usageError } from "../errors";

const usage = "hangar inspect [--format <claimed>] <file>";

export const inspect: Command = {
  usage,
  summary: "check a local disk image the way uploads are checked (no server needed)",
  help: `Prints { "format", "virtualSize", "safe", "problems": [...] } as JSON.
Exit status: 0 safe, 1 refused, 2 usage or configuration error.
A virtual size above HANGAR_MAX_VIRTUAL_SIZE (default 2T) is refused, as for uploads.
--format  the format the file claims to be (raw, qcow2, vmdk, vhd, vhdx, vdi, iso), or detect (default)`,
  options: { format: { type: "string" } },
  async run({ io, values, positionals }) {
    const [file, ...extra] = positionals;
    if (!file || extra.length) throw usageError("Say which file to inspect.", `Usage: ${usage}`);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new CliError("usage", `${file} is not a readable file.`);
    // Loaded only here: the inspector pulls in the server's settings, which other commands don't need.
    const { inspectFile } = await import("../../images/qemu-img");
    let verdict;
    try {
      verdict = await inspectFile({ path: file, claimedFormat: stringValue(values.format) ?? null });
    } catch (error) {
      throw new CliError("config", (error as Error).message);
    }
    io.out(
      JSON.stringify(
        { format: verdict.format, virtualSize: verdict.virtualSize, safe: verdict.safe, problems: verdict.problems },
        null,
        2,
      ),
    );
    return verdict.safe ? 0 : 1;
  },
};
