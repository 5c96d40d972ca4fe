// Version ordering checked against the package managers themselves: every pair is compared by
// the real `dpkg --compare-versions` and by rpm's own `rpm.vercmp` (rpm's Lua, which parses
// epoch:version-release like rpmdev-vercmp does), then by compareVersions and by the byte order of
// sortKey. The tools run once per scheme over all pairs (a file of pairs, one process).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parsePackageCondition, searchPackagesSchema } from "@/lib/validations/packages";
import {
  compareVersions,
  keyInRange,
  keyRange,
  parseVersion,
  sortKey,
  VersionSyntaxError,
  type VersionOperator,
} from "./package-versions";

const work = mkdtempSync(path.join(os.tmpdir(), "hangar-versions-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A small seeded generator so a failure reproduces. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** What the tool reads as one version without complaint (dpkg refuses a bad revision or upstream). */
function wellFormed(scheme: "deb" | "rpm", text: string): boolean {
  try {
    const { upstreamVersion, release, hasRelease } = parseVersion(scheme, text);
    if (scheme === "rpm")
      return !/^[^0-9]/.test(upstreamVersion) && (!hasRelease || /^[A-Za-z0-9._+~^]+$/.test(release));
    return /^\d[A-Za-z0-9.+~:-]*$/.test(upstreamVersion) && (!hasRelease || /^[A-Za-z0-9.+~]+$/.test(release));
  } catch {
    return false;
  }
}

function generatedPairs(scheme: "deb" | "rpm", count: number, seed: number): [string, string][] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const pieces =
    scheme === "deb"
      ? [
          "0",
          "00",
          "1",
          "01",
          "2",
          "9",
          "10",
          "010",
          "123",
          ".",
          ".",
          "+",
          "~",
          "~",
          "a",
          "b",
          "z",
          "A",
          "rc",
          "beta",
          "deb12u",
          "ubuntu",
          "-",
        ]
      : [
          "0",
          "00",
          "1",
          "01",
          "2",
          "9",
          "10",
          "010",
          "123",
          ".",
          ".",
          "_",
          "+",
          "~",
          "^",
          "a",
          "b",
          "Z",
          "rc",
          "git",
          "el9",
          "fc40",
        ];
  const part = (min: number) => {
    let text = pick(["0", "1", "2", "10", "01", "3"]);
    const length = min + Math.floor(next() * 5);
    for (let index = 0; index < length; index += 1) text += pick(pieces);
    return scheme === "deb" ? text : text.replace(/-/g, ".");
  };
  const version = () => {
    const epoch = next() < 0.2 ? `${pick([0, 1, 2, 10])}:` : "";
    const upstream = part(0).replace(/-$/, ".");
    const release = next() < 0.7 ? `-${part(0).replace(/-/g, ".")}` : "";
    return `${epoch}${upstream}${release}`;
  };
  const mutate = (text: string) => {
    const at = Math.floor(next() * (text.length + 1));
    const choice = next();
    const insert = pick(["0", "1", "~", "a", ".", scheme === "rpm" ? "^" : "+"]);
    if (choice < 0.4) return text.slice(0, at) + insert + text.slice(at);
    if (choice < 0.7 && text.length > 1) return text.slice(0, Math.max(1, at)) + text.slice(Math.max(1, at) + 1);
    return text + insert;
  };
  const pairs: [string, string][] = [];
  while (pairs.length < count) {
    const a = version();
    const b = next() < 0.6 ? mutate(a) : version();
    if (!wellFormed(scheme, a) || !wellFormed(scheme, b)) continue;
    pairs.push([a, b]);
  }
  return pairs;
}

const debTricky: [string, string][] = [
  ["1.0", "1.0-0"],
  ["1.0", "1.0-1"],
  ["1.0-0", "1.0"],
  ["1.0~rc1", "1.0"],
  ["1.0~rc1", "1.0~rc2"],
  ["1.0~~", "1.0~"],
  ["1.0~", "1.0"],
  ["1.0", "1.0+b1"],
  ["1.0", "1.0.0"],
  ["1.0", "1.00"],
  ["1.001", "1.1"],
  ["1.0a", "1.0"],
  ["1.0a", "1.0+"],
  ["1.0a", "1.0.1"],
  ["1.0A", "1.0a"],
  ["1:1.0", "2.0"],
  ["0:1.0", "1.0"],
  ["1:3.0.11-1~deb12u2", "1:3.0.11-1"],
  ["3.0.11-1~deb12u2", "3.0.11-1~deb12u1"],
  ["3.0.11-1~deb12u2", "3.0.14-1"],
  ["2.36-9+deb12u4", "2.36-9+deb12u10"],
  ["7.88.1-10+deb12u5", "7.88.1-10+deb12u12"],
  ["1.2.3-1ubuntu1", "1.2.3-1"],
  ["1.2.3-1ubuntu0.1", "1.2.3-1ubuntu1"],
  ["10", "9"],
  ["1a", "1+"],
  ["1.0-1-1", "1.0-1"],
  ["2:0", "1:99999999999999999999"],
  ["1.2.3~git20230101", "1.2.3"],
  ["0", "0.0"],
  ["1-0", "1"],
  ["1-00", "1-0"],
  ["1.0-a", "1.0-0"],
];

const rpmTricky: [string, string][] = [
  ["1.0", "1.0.0"],
  ["1.0~rc1", "1.0"],
  ["1.0~rc1", "1.0~rc2"],
  ["1.0~", "1.0"],
  ["1.0^", "1.0"],
  ["1.0^git1", "1.0"],
  ["1.0^git1", "1.0.1"],
  ["1.0^git1", "1.0~rc1"],
  ["1.0^git1", "1.0^git2"],
  ["1.0a", "1.0"],
  ["1.0a", "1.0.1"],
  ["1.a", "1.1"],
  ["1.010", "1.10"],
  ["1.010", "1.9"],
  ["1_0", "1.0"],
  ["1..0", "1.0"],
  ["1.0+", "1.0"],
  ["A_", "AB"],
  ["a.1", "ab"],
  ["1.0a_", "1.0ab"],
  ["1:1.0-1", "2.0-1"],
  ["0:1.0-1", "1.0-1"],
  ["1.0-1", "1.0-1.el9"],
  ["1.0-1.el9", "1.0-1.el9_2"],
  ["3.0.7-27.el9", "3.0.7-24.el9"],
  ["1:3.0.7-27.el9", "1:3.1.1-2.fc40"],
  ["5.14.0-427.13.1.el9_4", "5.14.0-427.2.1.el9_4"],
  ["2.0-1", "2.0-1~beta"],
  ["1.0", "1.0-1"],
  ["Z", "a"],
  ["1.0~~", "1.0~"],
  ["1.0^^", "1.0^"],
  ["1.0^~", "1.0^"],
  ["1~^", "1~"],
];

const operatorOf = { "-1": "lt", "0": "eq", "1": "gt" } as const;

/**
 * Asks dpkg whether each pair is in the stated relation (lt, eq, gt, le): one process per pair,
 * the fewest dpkg allows, so the expected answer comes with the question.
 */
function dpkgConfirms(questions: [string, string, string][]): boolean[] {
  const file = path.join(work, "deb-questions");
  writeFileSync(file, questions.map(([a, op, b]) => `${a} ${op} ${b}`).join("\n") + "\n");
  const script = `while read -r a op b; do
    dpkg --compare-versions "$a" "$op" "$b"; rc=$?
    if [ $rc -eq 0 ]; then echo yes; elif [ $rc -eq 1 ]; then echo no; else echo invalid; fi
  done < "$1"`;
  const answers = execFileSync("bash", ["-c", script, "bash", file], { encoding: "utf8" }).trim().split("\n");
  expect(answers).toHaveLength(questions.length);
  return answers.map((answer) => answer === "yes");
}

function rpmOrders(pairs: [string, string][]): number[] {
  const file = path.join(work, "rpm-pairs");
  writeFileSync(file, pairs.map(([a, b]) => `${a}\t${b}`).join("\n") + "\n");
  const lua = `%{lua: local out = {}
    for line in io.lines("${file}") do
      local a, b = line:match("^(.-)\\t(.*)$")
      out[#out + 1] = tostring(rpm.vercmp(a, b))
    end
    print(table.concat(out, "\\n"))}`;
  return execFileSync("rpm", ["--eval", lua], { encoding: "utf8" }).trim().split("\n").map(Number);
}

const keyOf = (scheme: "deb" | "rpm" | "apk", text: string) => sortKey(scheme, parseVersion(scheme, text));

function checkAgainst(scheme: "rpm", pairs: [string, string][], truth: number[]) {
  expect(truth).toHaveLength(pairs.length);
  const mismatches: string[] = [];
  pairs.forEach(([a, b], index) => {
    const expected = truth[index]!;
    const compared = Math.sign(compareVersions(scheme, a, b));
    const keyed = Math.sign(Buffer.compare(keyOf(scheme, a), keyOf(scheme, b)));
    if (compared !== expected || keyed !== expected)
      mismatches.push(`${a} vs ${b}: tool ${expected}, compareVersions ${compared}, sortKey ${keyed}`);
  });
  expect(mismatches).toEqual([]);
}

describe("deb ordering (dpkg --compare-versions)", () => {
  const pairs = [...debTricky, ...generatedPairs("deb", 200, 13)];

  it("agrees with dpkg on every pair, by comparison and by sort key bytes", () => {
    const mismatches: string[] = [];
    const questions: [string, string, string][] = [];
    for (const [a, b] of pairs) {
      const compared = Math.sign(compareVersions("deb", a, b));
      const keyed = Math.sign(Buffer.compare(keyOf("deb", a), keyOf("deb", b)));
      if (compared !== keyed) mismatches.push(`${a} vs ${b}: compareVersions ${compared}, sortKey ${keyed}`);
      questions.push([a, operatorOf[String(keyed) as "-1" | "0" | "1"], b]);
    }
    // The pairs are meant to differ in every way: a generator making only equal pairs tests nothing.
    expect(new Set(questions.map(([, op]) => op))).toEqual(new Set(["lt", "eq", "gt"]));
    dpkgConfirms(questions).forEach((confirmed, index) => {
      const [a, op, b] = questions[index]!;
      if (!confirmed) mismatches.push(`dpkg says it is not true that ${a} ${op} ${b}`);
    });
    expect(mismatches).toEqual([]);
  });

  it("sorts a list of versions the way dpkg does", () => {
    const versions = [...new Set(pairs.flat())].slice(0, 90);
    const byCompare = [...versions].sort((a, b) => compareVersions("deb", a, b) || (a < b ? -1 : 1));
    const byKey = [...versions].sort((a, b) => Buffer.compare(keyOf("deb", a), keyOf("deb", b)) || (a < b ? -1 : 1));
    expect(byKey).toEqual(byCompare);
    // Neighbours in that order, asked of dpkg: never out of order.
    const neighbours = byKey
      .slice(1)
      .map((version, index) => [byKey[index]!, "le", version] as [string, string, string]);
    expect(dpkgConfirms(neighbours).every(Boolean)).toBe(true);
  });
});

describe("rpm ordering (rpm.vercmp)", () => {
  const pairs = [...rpmTricky, ...generatedPairs("rpm", 300, 29)];
  const truth = rpmOrders(pairs);

  it("agrees with rpm on every pair, by comparison and by sort key bytes", () => {
    expect(new Set(truth)).toEqual(new Set([-1, 0, 1]));
    checkAgainst("rpm", pairs, truth);
  });

  it("sorts a list of versions the way rpm does", () => {
    const versions = [...new Set(pairs.flat())];
    const byKey = [...versions].sort((a, b) => Buffer.compare(keyOf("rpm", a), keyOf("rpm", b)) || (a < b ? -1 : 1));
    const neighbours = byKey.slice(1).map((version, index) => [byKey[index]!, version] as [string, string]);
    expect(rpmOrders(neighbours).every((order) => order <= 0)).toBe(true);
  });
});

describe("apk", () => {
  it("orders with dpkg's rules", () => {
    expect(keyOf("apk", "3.1.4-r5").equals(keyOf("deb", "3.1.4-r5"))).toBe(true);
    expect(compareVersions("apk", "3.1.4-r5", "3.1.4-r10")).toBeLessThan(0);
  });
});

describe("key ranges of a condition", () => {
  const matches = (scheme: "deb" | "rpm", op: VersionOperator, bound: string, version: string) =>
    keyInRange(keyOf(scheme, version), keyRange(scheme, op, bound));

  it("deb: a bound without a revision is revision '' (3.0.14-1 is not < 3.0.14), with epochs and tildes", () => {
    expect(matches("deb", "<", "3.0.14", "3.0.11-1~deb12u2")).toBe(true);
    expect(matches("deb", "<", "3.0.14", "3.0.14-1")).toBe(false);
    expect(matches("deb", "<", "3.0.14", "3.0.14~rc1-1")).toBe(true);
    expect(matches("deb", "<", "3.0.14", "1:1.0-1")).toBe(false);
    expect(matches("deb", ">=", "1:3.0.11-1~deb12u2", "1:3.0.11-1~deb12u2")).toBe(true);
    expect(matches("deb", ">=", "1:3.0.11-1~deb12u2", "1:3.0.11-1~deb12u1")).toBe(false);
    expect(matches("deb", ">=", "1:3.0.11-1~deb12u2", "1:3.0.11-1")).toBe(true);
    expect(matches("deb", "=", "1.0", "1.0-0")).toBe(true);
    expect(matches("deb", "=", "1.0", "1.00")).toBe(true);
    expect(matches("deb", ">", "1.0", "1.0-0")).toBe(false);
    expect(matches("deb", "<=", "1.0", "1.0")).toBe(true);
  });

  it("rpm: a bound without a release compares epoch and version only, as rpm does for a dependency", () => {
    expect(matches("rpm", "<", "3.0.14", "3.0.7-27.el9")).toBe(true);
    expect(matches("rpm", "<", "3.0.14", "3.0.14-1.fc40")).toBe(false);
    expect(matches("rpm", "<=", "3.0.14", "3.0.14-99.fc40")).toBe(true);
    expect(matches("rpm", "=", "3.0.14", "3.0.14-1.fc40")).toBe(true);
    expect(matches("rpm", "=", "3.0.14", "3.0.14~rc1-1")).toBe(false);
    expect(matches("rpm", ">", "3.0.14", "3.0.14-1")).toBe(false);
    expect(matches("rpm", ">", "3.0.14", "3.0.14^git1-1")).toBe(true);
    expect(matches("rpm", ">=", "3.0.14", "3.0.14-1")).toBe(true);
    expect(matches("rpm", "<", "1:3.0.14", "3.1.0-1")).toBe(true);
    expect(matches("rpm", "<", "3.0.14-2", "3.0.14-1.el9")).toBe(true);
    expect(matches("rpm", "<", "3.0.14-2", "3.0.14-10.el9")).toBe(false);
  });
});

describe("package conditions", () => {
  it("reads a name, an operator and a version", () => {
    expect(parsePackageCondition("openssl")).toEqual({ name: "openssl" });
    expect(parsePackageCondition(" openssl < 3.0.14 ")).toEqual({ name: "openssl", op: "<", version: "3.0.14" });
    expect(parsePackageCondition("openssl>=1:3.0.11-1~deb12u2")).toEqual({
      name: "openssl",
      op: ">=",
      version: "1:3.0.11-1~deb12u2",
    });
    expect(parsePackageCondition("libstdc++6 <= 12.2.0-14")).toEqual({
      name: "libstdc++6",
      op: "<=",
      version: "12.2.0-14",
    });
    expect(parsePackageCondition("kernel-core == 5.14.0")).toEqual({ name: "kernel-core", op: "=", version: "5.14.0" });
  });

  it("refuses what is not a condition, saying why", () => {
    const error = (text: string) => {
      const parsed = parsePackageCondition(text);
      return "error" in parsed ? parsed.error : null;
    };
    expect(error("")).toMatch(/Enter a package name/);
    expect(error("openssl <")).toMatch(/compares with no version/);
    expect(error("< 3.0")).toMatch(/Start with the package name/);
    expect(error("openssl != 3.0")).toMatch(/not a package condition/);
    expect(error("openssl < 3.0 4.0")).toMatch(/not a package condition/);
    expect(error("openssl < x:3.0")).toMatch(/epoch "x"/);
    expect(error("openssl < 3.0-")).toMatch(/names no release/);
    expect(error("openssl < é")).toMatch(/not a package condition|not valid/);
  });

  it("is a zod schema whose error a form can show", () => {
    const parsed = searchPackagesSchema.safeParse({ condition: "openssl <" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/compares with no version/);
    expect(searchPackagesSchema.parse({ condition: "openssl < 3" })).toEqual({
      condition: { name: "openssl", op: "<", version: "3" },
      limit: 50,
    });
  });

  it("parseVersion refuses a malformed version", () => {
    expect(() => parseVersion("deb", "1.0 2")).toThrow(VersionSyntaxError);
    expect(() => parseVersion("rpm", "1:2:3")).toThrow(VersionSyntaxError);
    expect(() => parseVersion("deb", `1.${"9".repeat(300)}`)).toThrow(VersionSyntaxError);
    expect(parseVersion("deb", "1:2.0-3-4")).toEqual({
      epoch: 1,
      upstreamVersion: "2.0-3",
      release: "4",
      hasRelease: true,
    });
  });
});
