import { describe, expect, it } from "vitest";
import { recipeFromYaml, recipeToYaml, type RecipeDocument } from "./yaml";

const recipe: RecipeDocument = {
  name: "CI runner",
  description: "Debian with the build tools",
  base: { image: "debian-12-base", channel: "latest" },
  steps: [
    { type: "install", packages: ["git", "make"] },
    { type: "write", path: "/etc/motd", content: "Built by Hangar\nline: two\n", mode: "0644" },
    { type: "ssh-key", user: "ci", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBH5uVSaX1zjmR6c6Ff2mR1mA5hVQ4Hk3ucOm5ddCx8Z ci@hangar" },
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
    const both = recipeFromYaml(recipeToYaml({ ...recipe, base: { image: "debian-12-base", version: "1", channel: "latest" } }));
    expect(both.ok).toBe(false);
    if (!both.ok) expect(both.problems[0]!.message).toMatch(/not both/);
  });
});
