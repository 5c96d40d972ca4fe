// The shape every benchmark reports, printed as a table and written to bench/results/<name>.json.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  anchor: number;
  ratio: number;
  target: string;
  pass: boolean;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function printRows(name: string, rows: BenchRow[]): void {
  console.log(`\n${name}`);
  console.table(
    rows.map((row) => ({
      metric: row.metric,
      value: `${row.value.toFixed(2)} ${row.unit}`,
      anchor: row.anchor.toFixed(2),
      ratio: row.ratio.toFixed(3),
      target: row.target,
      result: row.pass ? "pass" : "MISSED",
    })),
  );
  const missed = rows.filter((row) => !row.pass);
  if (missed.length) console.log(`${missed.length} target(s) missed: ${missed.map((row) => row.metric).join(", ")}`);
}

export async function writeResults(name: string, rows: BenchRow[]): Promise<string> {
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), "results");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, `${JSON.stringify(rows, null, 2)}\n`);
  return file;
}
