import { chmod, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configFile, permissionProblem, readConfig, writeConfig } from "./config";

const tempEnvironment = async () => ({ XDG_CONFIG_HOME: await mkdtemp(path.join(os.tmpdir(), "hangar-config-")) });

describe("the CLI config file", () => {
  it("is written 0600 in a 0700 directory under XDG_CONFIG_HOME and read back", async () => {
    const environment = await tempEnvironment();
    const file = await writeConfig({ url: "http://h.test", token: "hgr_secret" }, environment);
    expect(file).toBe(path.join(environment.XDG_CONFIG_HOME, "hangar", "config.json"));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(await readConfig(environment)).toEqual({ url: "http://h.test", token: "hgr_secret" });
  });

  it("tightens a directory that already existed with looser permissions", async () => {
    const environment = await tempEnvironment();
    await writeConfig({ url: "http://h.test" }, environment);
    await chmod(path.dirname(configFile(environment)), 0o755);
    await writeConfig({ url: "http://h.test", token: "t" }, environment);
    expect((await stat(path.dirname(configFile(environment)))).mode & 0o777).toBe(0o700);
  });

  it("refuses a file group or others can read, saying how to fix it", async () => {
    const environment = await tempEnvironment();
    const file = await writeConfig({ url: "http://h.test", token: "hgr_secret" }, environment);
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      await chmod(file, mode);
      await expect(readConfig(environment)).rejects.toMatchObject({
        code: "config",
        exitCode: 2,
        message: expect.stringContaining(`chmod 600 ${file}`),
      });
    }
    await chmod(file, 0o400);
    expect((await readConfig(environment)).token).toBe("hgr_secret");
  });

  it("treats a missing file as empty and a broken one as a config error", async () => {
    const environment = await tempEnvironment();
    expect(await readConfig(environment)).toEqual({});
    const file = await writeConfig({}, environment);
    await writeFile(file, "{not json", { mode: 0o600 });
    await expect(readConfig(environment)).rejects.toMatchObject({ code: "config" });
    expect(await readFile(file, "utf8")).toBe("{not json");
  });

  it("names the mode in the refusal", () => {
    expect(permissionProblem("/x", 0o100600)).toBeNull();
    expect(permissionProblem("/x", 0o100644)).toMatch(/mode 644.*chmod 600 \/x/);
  });
});
