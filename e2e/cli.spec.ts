// The `hangar` CLI as a subprocess against the real running app (Playwright's webServer): login
// and its config file, pull (verified, resumed, damaged), push (fresh, interrupted and resumed),
// the error messages a script sees, and the review and channel commands.
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rename, stat, truncate, writeFile, open } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { ADMIN_EMAIL, APP_ORIGIN, appEnv } from "./env";
import { uniqueName } from "./helpers";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin/hangar.mjs");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let home: string;
let work: string;
let token: string;

function hangar(args: string[], { env = {}, input }: { env?: Record<string, string>; input?: string } = {}) {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: work,
    env: {
      PATH: process.env.PATH!,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, ".config"),
      ...env,
    } as unknown as NodeJS.ProcessEnv,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input ?? "");
  const done = new Promise<Result>((resolve) =>
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
  return { child, done };
}

const withToken = (extra: Record<string, string> = {}) => ({ HANGAR_URL: APP_ORIGIN, HANGAR_TOKEN: token, ...extra });
const cliRun = (args: string[], env: Record<string, string> = withToken()) => hangar(args, { env }).done;
const json = <T = Record<string, unknown>>(result: Result) => JSON.parse(result.stdout) as T;

async function createToken(scope: "read" | "write"): Promise<string> {
  const { stdout } = await run(
    "npx",
    [
      "tsx",
      "scripts/admin.ts",
      "token",
      "create",
      "--user",
      ADMIN_EMAIL,
      "--scope",
      scope,
      "--name",
      uniqueName("cli"),
    ],
    { cwd: root, env: { ...process.env, ...appEnv } },
  );
  const secret = stdout.trim().split("\n").at(-1)!;
  expect(secret).toMatch(/^hgr_/);
  return secret;
}

async function sha256sum(file: string): Promise<string> {
  const { stdout } = await run("sha256sum", [file]);
  return stdout.split(" ")[0]!;
}

async function apiJson<T>(pathname: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${APP_ORIGIN}${pathname}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...init.headers },
  });
  expect(response.ok, `${pathname}: ${response.status}`).toBe(true);
  return (await response.json()) as T;
}

test.describe.configure({ mode: "serial" });
test.setTimeout(180_000);

test.beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "hangar-cli-home-"));
  work = await mkdtemp(path.join(os.tmpdir(), "hangar-cli-work-"));
  token = await createToken("write");
});

test("login checks the token, stores it 0600, and a config others can read is refused", async () => {
  const bad = await hangar(["login", "--url", APP_ORIGIN], { input: "hgr_not-a-real-token\n" }).done;
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("That is not a Hangar token");
  const file = path.join(home, ".config", "hangar", "config.json");
  await expect(stat(file)).rejects.toThrow();

  const good = await hangar(["login", "--url", APP_ORIGIN], { input: `${token}\n` }).done;
  expect(good.code, good.stderr).toBe(0);
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
  expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ url: APP_ORIGIN, token });

  const listed = await hangar(["images", "ls", "--json", "--limit", "200"]).done;
  expect(listed.code, listed.stderr).toBe(0);
  expect(json<{ items: { slug: string }[] }>(listed).items.map((image) => image.slug)).toContain("debian-12-base");

  await chmod(file, 0o644);
  const refused = await hangar(["images", "ls"]).done;
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(`chmod 600 ${file}`);
  // The environment wins over the file, so CI is not blocked by a stray config.
  expect((await hangar(["images", "ls"], { env: withToken() }).done).code).toBe(0);
  await chmod(file, 0o600);

  const out = await hangar(["logout"]).done;
  expect(out.code).toBe(0);
  await expect(stat(file)).rejects.toThrow();
});

test("a bad token, a missing image and an unreachable server are clear failures", async () => {
  const unknown = await cliRun(["pull", "debian-12-base"], withToken({ HANGAR_TOKEN: `hgr_${"x".repeat(43)}` }));
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("This token is not known to Hangar");

  const jsonError = await cliRun(
    ["pull", "debian-12-base", "--json"],
    withToken({ HANGAR_TOKEN: `hgr_${"x".repeat(43)}` }),
  );
  expect(jsonError.code).toBe(1);
  expect(JSON.parse(jsonError.stderr)).toMatchObject({
    error: { code: "unauthenticated", message: expect.stringContaining("not known to Hangar") },
  });

  const missing = await cliRun(["pull", "no-such-image-anywhere"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("There is no image no-such-image-anywhere that this caller can see.");

  const down = await cliRun(["images", "ls"], withToken({ HANGAR_URL: "http://127.0.0.1:3999" }));
  expect(down.code).toBe(1);
  expect(down.stderr).toContain("Can't reach Hangar at http://127.0.0.1:3999 (nothing is listening there)");

  const usage = await cliRun(["pull"]);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain("Usage: hangar pull");
  const noConfig = await cliRun(["images", "ls"], {});
  expect(noConfig.code).toBe(2);
  expect(noConfig.stderr).toContain("hangar login");
});

test("pull IMAGE@latest writes the published bytes, resumes a truncated .part and rejects a damaged one", async () => {
  const lookup = await apiJson<{ version: { id: string; sha256: string; fileSize: number } }>(
    "/api/v1/images/debian-12-base/channels/latest",
  );
  const file = path.join(work, "debian.qcow2");
  const first = await cliRun(["pull", "debian-12-base@latest", "-o", file, "--json"]);
  expect(first.code, first.stderr).toBe(0);
  expect(json(first)).toMatchObject({
    versionId: lookup.version.id,
    sha256: lookup.version.sha256,
    verified: true,
    size: lookup.version.fileSize,
    resumedFrom: 0,
  });
  expect(await sha256sum(file)).toBe(lookup.version.sha256);
  await expect(stat(`${file}.part`)).rejects.toThrow();
  const whole = await readFile(file);

  // Interrupted half way: the rest is fetched with a Range request.
  const half = Math.floor(whole.length / 2);
  await rename(file, `${file}.part`);
  await truncate(`${file}.part`, half);
  const resumed = await cliRun(["pull", "debian-12-base", "-o", file, "--json"]);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(json(resumed)).toMatchObject({ resumedFrom: half, bytesFetched: whole.length - half, verified: true });
  expect((await readFile(file)).equals(whole)).toBe(true);

  // A damaged prefix is caught by the checksum; nothing is left in place.
  await rename(file, `${file}.part`);
  await truncate(`${file}.part`, half);
  const handle = await open(`${file}.part`, "r+");
  await handle.write(Buffer.from("damaged!"), 0, 8, 1000);
  await handle.close();
  const damaged = await cliRun(["pull", "debian-12-base", "-o", file]);
  expect(damaged.code).toBe(1);
  expect(damaged.stderr).toContain(`but Hangar published ${lookup.version.sha256}`);
  await expect(stat(`${file}.part`)).rejects.toThrow();
  await expect(stat(file)).rejects.toThrow();

  const again = await cliRun(["pull", "debian-12-base", "-o", file, "--json"]);
  expect(again.code, again.stderr).toBe(0);
  expect(await sha256sum(file)).toBe(lookup.version.sha256);
});

test("pull --format fetches a finished conversion and checks it", async () => {
  const version = await apiJson<{ id: string }>("/api/v1/images/debian-12-base/versions/12.6.0");
  await apiJson(`/api/v1/versions/${version.id}/conversions`, {
    method: "POST",
    body: JSON.stringify({ format: "raw" }),
  });
  let ready = false;
  for (let attempt = 0; attempt < 120 && !ready; attempt += 1) {
    const head = await fetch(`${APP_ORIGIN}/api/v1/versions/${version.id}/download?format=raw`, {
      method: "HEAD",
      headers: { Authorization: `Bearer ${token}` },
    });
    ready = head.status === 200;
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  expect(ready).toBe(true);
  const file = path.join(work, "debian.raw");
  const pulled = await cliRun(["pull", "debian-12-base:12.6.0", "--format", "raw", "-o", file, "--json"]);
  expect(pulled.code, pulled.stderr).toBe(0);
  const result = json<{ sha256: string; verified: boolean; format: string }>(pulled);
  expect(result.format).toBe("raw");
  expect(result.sha256).toBe(await sha256sum(file));
  // The conversion's own checksum is the one checked, when the API gives one.
  if (result.verified) expect(pulled.stderr).toBe("");
  else expect(pulled.stderr).toContain("unverified");
  const { stdout } = await run("qemu-img", ["info", "--output=json", file]);
  expect(JSON.parse(stdout).format).toBe("raw");
});

test.describe("push", () => {
  let slug: string;

  test.beforeAll(async () => {
    slug = uniqueName("cli-push");
    await apiJson("/api/v1/images", {
      method: "POST",
      body: JSON.stringify({ project: "platform", slug, name: slug, os: "Linux", osVersion: "1", arch: "x86_64" }),
    });
  });

  test("a small qcow2 becomes a ready version, and pulls back byte for byte", async () => {
    const file = path.join(work, "small.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", file, "64M"]);
    const pushed = await cliRun(["push", file, "--image", slug, "--version", "1.0.0", "--json"]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const result = json<{ versionId: string; dataStatus: string; sha256: string }>(pushed);
    expect(result).toMatchObject({ dataStatus: "ready", sha256: await sha256sum(file), resumedFrom: 0 });

    const back = path.join(work, "small-back.qcow2");
    const pulled = await cliRun(["pull", `${slug}:1.0.0`, "-o", back]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect((await readFile(back)).equals(await readFile(file))).toBe(true);
    expect((await cliRun(["pull", result.versionId, "-o", path.join(work, "by-id.qcow2")])).code).toBe(0);

    const versions = await cliRun(["versions", "ls", slug]);
    expect(versions.stdout).toMatch(/^VERSION\s+FORMAT\s+SIZE\s+DATA\s+RELEASE\s+CREATED\s+ID$/m);
    expect(versions.stdout).toMatch(new RegExp(`^1\\.0\\.0\\s+qcow2\\s+.*ready.*${result.versionId}$`, "m"));

    const again = await cliRun(["push", file, "--image", slug, "--version", "1.0.0"]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().length).toBeGreaterThan(10);
  });

  test("Ctrl-C in the middle of a push, then the same command resumes and sends fewer bytes", async () => {
    const size = 64 * 1024 * 1024;
    const file = path.join(work, "random.raw");
    await writeFile(file, randomBytes(size));
    const args = [
      "push",
      file,
      "--image",
      slug,
      "--version",
      "2.0.0",
      "--format",
      "raw",
      "--chunk-size",
      "256k",
      // Resumed, --verify hashes the part the server already has from the file, then the rest.
      "--verify",
      "--json",
    ];
    const first = hangar(args, { env: withToken() });
    const storage = path.join(home, ".config", "hangar", "uploads.json");
    let offset = 0;
    for (let attempt = 0; attempt < 600 && offset === 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const stored = await readFile(storage, "utf8").catch(() => "{}");
      const entry = Object.values(JSON.parse(stored || "{}") as Record<string, { uploadUrl: string }>)[0];
      if (!entry) continue;
      const head = await fetch(new URL(entry.uploadUrl, APP_ORIGIN), {
        method: "HEAD",
        headers: { Authorization: `Bearer ${token}`, "Tus-Resumable": "1.0.0" },
      });
      offset = Number(head.headers.get("upload-offset") ?? 0);
    }
    expect(offset).toBeGreaterThan(0);
    first.child.kill("SIGINT");
    const stopped = await first.done;
    expect(stopped.code).not.toBe(0);
    expect(stopped.stderr).toContain("run the same command again to resume");

    const second = await cliRun(args);
    expect(second.code, second.stderr).toBe(0);
    const result = json<{ resumedFrom: number; bytesSent: number; dataStatus: string; sha256: string }>(second);
    expect(result.resumedFrom).toBeGreaterThan(0);
    expect(result.bytesSent).toBeLessThan(size);
    expect(result).toMatchObject({ dataStatus: "ready", checkedAgainst: "--verify" });
    expect(result.sha256).toBe(
      createHash("sha256")
        .update(await readFile(file))
        .digest("hex"),
    );
    const back = path.join(work, "random-back.raw");
    expect((await cliRun(["pull", `${slug}:2.0.0`, "-o", back])).code).toBe(0);
    expect(await sha256sum(back)).toBe(result.sha256);
  });

  test("--sha256 and --verify have the server refuse any file but the one meant", async () => {
    const file = path.join(work, "checked.raw");
    await writeFile(file, randomBytes(4 * 1024 * 1024));
    const sha256 = await sha256sum(file);
    const push = (version: string, ...extra: string[]) =>
      cliRun(["push", file, "--image", slug, "--version", version, "--format", "raw", ...extra]);

    const wrong = await push("3.0.0", "--sha256", "0".repeat(64));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`is ${sha256}, not the ${"0".repeat(64)} you expected`);
    const right = await push("3.0.1", "--sha256", sha256.toUpperCase(), "--json");
    expect(right.code, right.stderr).toBe(0);
    expect(json(right)).toMatchObject({ dataStatus: "ready", sha256, checkedAgainst: "--sha256" });
    // In parts, so the last one (hashed before it is sent) is not the whole file.
    const verified = await push("3.0.2", "--verify", "--chunk-size", "1M");
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`sha256 ${sha256} (matches the file as hashed here while sending)`);
    const both = await push("3.0.3", "--verify", "--sha256", sha256);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("not both");
  });

  test("channel set moves a channel; approve and reject say the server's answer", async () => {
    // Channels point only at approved versions: the demo's are.
    const channel = uniqueName("cli");
    const moved = await cliRun(["channel", "set", "debian-12-base", channel, "12.6.0", "--json"]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(json<{ version: { version: string } }>(moved).version.version).toBe("12.6.0");
    const pulled = await cliRun([
      "pull",
      `debian-12-base@${channel}`,
      "-o",
      path.join(work, "channel.qcow2"),
      "--json",
    ]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(json(pulled)).toMatchObject({ version: "12.6.0", verified: true });
    const draft = await cliRun(["channel", "set", slug, "candidate", "1.0.0"]);
    expect(draft.code).toBe(1);
    expect(draft.stderr).toContain("A channel can only point at an approved version; 1.0.0 is draft.");

    const noReason = await cliRun(["reject", `${slug}:1.0.0`]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("--reason");
    const refused = await cliRun(["approve", `${slug}:1.0.0`, "--json"]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error.message.length).toBeGreaterThan(10);
  });
});

test("build --follow streams a recipe's build log and exits with its result", async () => {
  test.setTimeout(420_000);
  const base = await apiJson<{ project: { slug: string } }>("/api/v1/images/debian-12-base");
  const name = uniqueName("cli-build");
  // A single small write: the quickest build there is, and unique content so no earlier build matches it.
  const yaml = `name: ${name}\nbase:\n  image: debian-12-base\n  version: 12.7.0\nsteps:\n  - type: write\n    path: /etc/motd\n    content: "Built by ${name}"\noutput:\n  image: debian-12-base\n  format: qcow2\n`;
  const created = await fetch(`${APP_ORIGIN}/api/v1/recipes?project=${base.project.slug}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/yaml" },
    body: yaml,
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const recipe = (await created.json()) as { id: string };

  const followed = await cliRun(["build", recipe.id, "--follow"]);
  expect(followed.code, followed.stderr).toBe(0);
  expect(followed.stdout).toContain("virt-customize");
  expect(followed.stdout).toMatch(/Build [0-9a-f-]{36}: succeeded/);
  const buildId = followed.stdout.match(/Build ([0-9a-f-]{36}): succeeded/)![1]!;
  const shown = await cliRun(["builds", "show", buildId, "--json"]);
  expect(shown.code, shown.stderr).toBe(0);
  expect(json(shown)).toMatchObject({ id: buildId, recipeId: recipe.id, status: "succeeded" });
});

test("images show and builds report the server's answers", async () => {
  const shown = await cliRun(["images", "show", "debian-12-base"]);
  expect(shown.code, shown.stderr).toBe(0);
  expect(shown.stdout).toMatch(/^CHANNEL\s+VERSION\s+MANAGED\s+UPDATED$/m);
  expect(shown.stdout).toMatch(/^latest\s+12\.7\.0\s+yes/m);

  const build = await cliRun(["build", "00000000-0000-4000-8000-000000000000", "--follow"]);
  expect(build.code).toBe(1);
  expect(build.stderr).toMatch(/recipe/i);
  const help = await cliRun(["build", "--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("Usage: hangar build RECIPE_ID");
});
