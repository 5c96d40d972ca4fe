// `npm run admin -- …` in a test: the same parsing and command as the script, its output captured.
import { resolve } from "@/lib/cli/admin";

export async function runAdmin(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const resolved = resolve(argv);
  if (resolved.kind !== "command")
    return { code: 2, out: [], err: [resolved.kind === "usage" ? resolved.message : ""] };
  const out: string[] = [];
  const err: string[] = [];
  const code = await resolved.run({
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    readStdin: async () => "",
  });
  return { code, out, err };
}
