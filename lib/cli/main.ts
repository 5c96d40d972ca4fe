// `hangar` command line. `hangar inspect [--format F] FILE` vets a disk image with the same
// streaming inspector and qemu-img cross-check as uploads, for operators and for tests.
import { parseArgs } from "node:util";
import { stat } from "node:fs/promises";
import { inspectFile } from "../images/qemu-img";

const usage = `Usage: hangar inspect [--format <claimed>] <file>

Checks a disk image the way Hangar checks uploads and prints
{ "format", "virtualSize", "safe", "problems": [...] } as JSON.
Exit status: 0 safe, 1 refused, 2 usage or configuration error.
A virtual size above HANGAR_MAX_VIRTUAL_SIZE (default 2T) is refused, as for uploads.
--format  the format the file claims to be (raw, qcow2, vmdk, vhd, vhdx, vdi, iso), or detect (default)`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== "inspect") {
    console.error(command ? `Unknown command “${command}”.\n\n${usage}` : usage);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { format: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length) {
    console.error(usage);
    return 2;
  }
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    console.error(`${file} is not a readable file.`);
    return 2;
  }
  const verdict = await inspectFile({ path: file, claimedFormat: parsed.values.format ?? null });
  console.log(
    JSON.stringify(
      { format: verdict.format, virtualSize: verdict.virtualSize, safe: verdict.safe, problems: verdict.problems },
      null,
      2,
    ),
  );
  return verdict.safe ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`hangar: ${(error as Error).message}`);
    process.exit(2);
  },
);
