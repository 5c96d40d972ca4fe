// Several web processes behind a load balancer, as README's "Running on several machines" sets them
// up: two `npm start` web processes (web-only, each with its own data folder, no AUTH_SECRET set),
// one PostgreSQL and one Swift bucket, with a TCP load balancer in front that sends each new
// connection to the next live process. A person signed in through one is signed in on the other,
// and a `hangar push` whose web process is SIGKILLed mid-upload finishes on the other one, resumed
// from the parts in the bucket. It starts its own cluster (tests/cluster.ts), so it runs in the s3
// run only (npm test's second Playwright run); the app of Playwright's webServer is not used.
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { startCluster, type Cluster, type ClusterProcess } from "../tests/cluster";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "./env";
import { uniqueName } from "./helpers";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MiB = 1024 * 1024;

test.describe.configure({ mode: "serial" });
test.setTimeout(300_000);

/** An L4 load balancer: each new connection goes to the next web process that accepts one. */
class LoadBalancer {
  readonly server: net.Server;
  /** Bytes clients sent through each backend, by process name. */
  readonly received = new Map<string, number>();
  private next = 0;

  constructor(private readonly backends: ClusterProcess[]) {
    this.server = net.createServer((client) => this.route(client, 0));
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  private route(client: net.Socket, tried: number) {
    if (tried === this.backends.length) return client.destroy();
    const backend = this.backends[this.next++ % this.backends.length]!;
    const upstream = net.connect(Number(new URL(backend.origin!).port), "127.0.0.1");
    upstream.once("error", () => {
      // A dead process refuses the connection: the next one is asked, as a balancer's health check would.
      if (!upstream.bytesWritten) this.route(client, tried + 1);
      else client.destroy();
    });
    upstream.once("connect", () => {
      client.on("data", (chunk: Buffer) =>
        this.received.set(backend.name, (this.received.get(backend.name) ?? 0) + chunk.length),
      );
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      upstream.on("close", () => client.destroy());
    });
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let cluster: Cluster;
let balancer: LoadBalancer;
let webs: ClusterProcess[];
let work: string;

test.beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "hangar-cluster-e2e-"));
  cluster = await startCluster({
    env: {
      AUTH_SECRET: "", // unset: the processes share the one PostgreSQL keeps
      HANGAR_ADMIN_EMAIL: ADMIN_EMAIL,
      HANGAR_ADMIN_PASSWORD: ADMIN_PASSWORD,
      HANGAR_DEMO_REAL_DEBIAN: "false",
    },
  });
  // The first seeds the demo catalog (its projects); the second finds it there.
  webs = [await cluster.startWeb({ env: { HANGAR_SEED_DEMO: "true" } }), await cluster.startWeb()];
  balancer = new LoadBalancer(webs);
  await balancer.listen();
});

test.afterAll(async () => {
  await balancer?.close();
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

test("a person signed in through one web process is signed in on the other", async ({ browser }) => {
  const context = await browser.newContext({ baseURL: balancer.origin });
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(ADMIN_EMAIL);
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByLabel("Search images")).toBeVisible();
  const cookie = (await context.cookies()).map(({ name, value }) => `${name}=${value}`).join("; ");
  for (const web of webs) {
    const session = await fetch(`${web.origin}/api/auth/session`, { headers: { cookie } });
    expect(await session.json(), web.name).toMatchObject({ user: { email: ADMIN_EMAIL } });
  }
  await context.close();
});

test("a push whose web process is SIGKILLed mid-upload finishes on the other", async () => {
  const env = { ...process.env, ...cluster.env, HANGAR_DATA_DIR: path.join(work, "admin") };
  const token = (
    await run(
      "npx",
      ["tsx", "scripts/admin.ts", "token", "create", "--user", ADMIN_EMAIL, "--scope", "write", "--name", "cluster"],
      { cwd: root, env },
    )
  ).stdout
    .trim()
    .split("\n")
    .at(-1)!;
  expect(token).toMatch(/^hgr_/);
  const slug = uniqueName("cluster-push");
  const created = await fetch(`${balancer.origin}/api/v1/images`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ project: "platform", slug, name: slug, os: "Linux", osVersion: "1", arch: "x86_64" }),
  });
  expect(created.status, await created.clone().text()).toBe(201);

  const file = path.join(work, "disk.raw");
  const bytes = randomBytes(128 * MiB);
  await writeFile(file, bytes);
  const home = path.join(work, "home");
  const cliEnv = {
    PATH: process.env.PATH!,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    HANGAR_URL: balancer.origin,
    HANGAR_TOKEN: token,
  } as unknown as NodeJS.ProcessEnv;
  const push = spawn(
    process.execPath,
    [path.join(root, "bin/hangar.mjs"), "push", file, "--image", slug, "--version", "1.0", "--format", "raw", "--json"],
    {
      cwd: work,
      env: cliEnv,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  push.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  push.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => push.on("close", (code) => resolve(code ?? -1)));

  // The process receiving the file is the one the balancer has sent 72 MiB to: it has shipped
  // some of the 16 MiB parts to the bucket by then (at most two full parts wait to be shipped).
  let receiver: ClusterProcess | undefined;
  await expect
    .poll(() => (receiver = webs.find((web) => (balancer.received.get(web.name) ?? 0) > 72 * MiB)), {
      timeout: 120_000,
      intervals: [20],
    })
    .toBeTruthy();
  await receiver!.kill();

  const code = await exited;
  expect(code, `${stderr}\n${await cluster.logTails()}`).toBe(0);
  const result = JSON.parse(stdout) as { dataStatus: string; sha256: string; resumedFrom: number; bytesSent: number };
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  expect(result).toMatchObject({ dataStatus: "ready", sha256 });
  // The survivor took the upload over: the bytes the bucket held were not sent again.
  const survivor = webs.find((web) => web !== receiver)!;
  expect(balancer.received.get(survivor.name) ?? 0).toBeLessThan(bytes.length);

  const pulled = path.join(work, "pulled.raw");
  await run(process.execPath, [path.join(root, "bin/hangar.mjs"), "pull", `${slug}:1.0`, "-o", pulled], {
    cwd: work,
    env: cliEnv,
  });
  expect(
    createHash("sha256")
      .update(await readFile(pulled))
      .digest("hex"),
  ).toBe(sha256);
});
