import { describe, expect, it } from "vitest";
import { growToProblem } from "./steps";
import { boundedRecipeDocumentSchema, recipeFromYaml, recipeToYaml, type RecipeDocument } from "./yaml";

const recipe: RecipeDocument = {
  name: "CI runner",
  description: "Debian with the build tools",
  base: { image: "debian-12-base", channel: "latest" },
  steps: [
    { type: "install", packages: ["git", "make"] },
    { type: "write", path: "/etc/motd", content: "Built by Hangar\nline: two\n", mode: "0644" },
    {
      type: "ssh-key",
      user: "ci",
      key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBH5uVSaX1zjmR6c6Ff2mR1mA5hVQ4Hk3ucOm5ddCx8Z ci@hangar",
    },
    { type: "root-password", policy: "locked" },
  ],
  output: { image: "ci-runner", format: "qcow2", growTo: "20G" },
};

describe("recipe YAML", () => {
  it("round-trips, keeping multi-line content and odd characters", () => {
    const text = recipeToYaml(recipe);
    expect(recipeFromYaml(text)).toEqual({ ok: true, recipe });
  });

  it("reports unknown keys and wrong types with their line numbers", () => {
    const text = [
      "name: CI runner", // 1
      "base:", // 2
      "  image: debian-12-base", // 3
      "  version: 12.7.0", // 4
      "steps:", // 5
      "  - type: install", // 6
      "    packages: curl", // 7
      "  - type: timezone", // 8
      "    timezone: Mars/Base", // 9
      "  - type: reboot", // 10
      "output:", // 11
      "  image: ci-runner", // 12
      "  format: qcow2", // 13
      "  colour: blue", // 14
    ].join("\n");
    const result = recipeFromYaml(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byLine = Object.fromEntries(result.problems.map((problem) => [problem.line, problem.message]));
    expect(byLine[7]).toMatch(/expected array/i);
    expect(byLine[9]).toMatch(/time zone/);
    expect(byLine[10]).toBeDefined();
    expect(byLine[14]).toMatch(/colour/);
  });

  it("reports YAML syntax errors and duplicate keys with their lines", () => {
    const broken = recipeFromYaml("name: x\nbase: [unclosed\n");
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.problems[0]!.message).toMatch(/not valid YAML/);
    const duplicate = recipeFromYaml("name: a\nname: b\n");
    expect(duplicate.ok).toBe(false);
    if (!duplicate.ok) expect(duplicate.problems[0]).toMatchObject({ line: 2 });
  });

  it("requires a base pinned to a version or following a channel, not both", () => {
    const both = recipeFromYaml(
      recipeToYaml({ ...recipe, base: { image: "debian-12-base", version: "1", channel: "latest" } }),
    );
    expect(both.ok).toBe(false);
    if (!both.ok) expect(both.problems[0]!.message).toMatch(/not both/);
  });
});

describe("grow the disk to", () => {
  const GiB = 1024 ** 3;
  it("is checked against the admins' bound as the editor and the save action check it", () => {
    expect(growToProblem("20G", 256 * GiB)).toBeNull();
    expect(growToProblem("256G", 256 * GiB)).toBeNull();
    expect(growToProblem("257G", 256 * GiB)).toBe(
      "Grow the disk to at most 256 GiB: that is this Hangar's limit (HANGAR_MAX_GROW_SIZE, set by an admin).",
    );
    expect(growToProblem("1T", 512 * GiB)).toMatch(/at most 512 GiB/);
    expect(growToProblem("20 GB", 256 * GiB)).toMatch(/like 20G/);
    const bounded = boundedRecipeDocumentSchema(10 * GiB).safeParse(recipe);
    expect(bounded.success).toBe(false);
    expect(bounded.error?.issues).toEqual([
      expect.objectContaining({ path: ["output", "growTo"], message: expect.stringMatching(/at most 10 GiB/) }),
    ]);
    expect(boundedRecipeDocumentSchema(20 * GiB).safeParse(recipe).success).toBe(true);
  });
});
