// A real S3-compatible server for tests and benchmarks: a one-node OpenStack Swift (Debian's
// packages, installed by scripts/ensure-system.sh) with its s3api middleware, on loopback ports in
// a temp folder. A cold start takes 7-14 s, so a test run starts one at most, on first use
// (sharedSwift), and tests/swift-setup.ts stops it when the run ends.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

export interface SwiftServer {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The folder holding its configuration, data and logs (`log/*.log`). */
  dir: string;
  /** Process groups of the four servers (each calls setsid()). */
  groups: number[];
}

const REGION = "us-east-1";
const groupsFile = (dir: string) => path.join(dir, "groups.json");
const ACCESS_KEY_ID = "test:tester";
const SECRET_ACCESS_KEY = "testing";
const SERVERS = ["proxy", "account", "container", "object"] as const;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function storageConf({ kind, port, dir }: { kind: string; port: number; dir: string }): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
devices = ${dir}/srv
mount_check = false
swift_dir = ${dir}/etc
log_level = WARNING

[pipeline:main]
pipeline = ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}
`;
}

function proxyConf({ port, dir }: { port: number; dir: string }): string {
  const filters = ["catch_errors", "gatekeeper", "healthcheck", "proxy-logging", "listing_formats", "bulk", "copy"];
  const more = ["slo", "dlo", "versioned_writes", "symlink"];
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
swift_dir = ${dir}/etc
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = ${SECRET_ACCESS_KEY} .admin

[filter:s3api]
use = egg:swift#s3api
location = ${REGION}

# tempauth needs a cache in the pipeline; S3 requests work without a running memcached.
[filter:cache]
use = egg:swift#memcache
log_level = CRITICAL

${[...filters, ...more].map((name) => `[filter:${name}]\nuse = egg:swift#${name.replace("-", "_")}\n`).join("\n")}`;
}

// swift-ring-builder exits 1 on mere warnings; the Python API does the same in one process.
const RING_SCRIPT = `
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for kind, port in zip(("account", "container", "object"), sys.argv[2:5]):
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1", "weight": 100})
    builder.rebalance()
    builder.get_ring().save(f"{etc}/{kind}.ring.gz")
`;

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.slice(-2000)}`);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Swift did not start: ${what} after ${timeoutMs / 1000} s`);
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

/** Starts a one-node Swift in a new temp folder (or `dir`); stop it with stopSwift. */
export async function startSwift({ dir }: { dir?: string } = {}): Promise<SwiftServer> {
  if (!existsSync("/usr/bin/swift-proxy-server"))
    throw new Error("OpenStack Swift is not installed; run `bash scripts/ensure-system.sh` (as root) first");
  const root = dir ?? (await mkdtemp(path.join(os.tmpdir(), "hangar-swift-")));
  for (const sub of ["etc", "srv/d1", "log"]) await mkdir(path.join(root, sub), { recursive: true });
  const ports = { proxy: 0, account: 0, container: 0, object: 0 };
  for (const kind of SERVERS) ports[kind] = await freePort();
  await run("/usr/bin/python3", [
    "-c",
    RING_SCRIPT,
    `${root}/etc`,
    `${ports.account}`,
    `${ports.container}`,
    `${ports.object}`,
  ]);
  const server: SwiftServer = {
    endpoint: `http://127.0.0.1:${ports.proxy}`,
    region: REGION,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    dir: root,
    groups: [],
  };
  try {
    for (const kind of SERVERS) {
      const conf = path.join(root, "etc", `${kind}-server.conf`);
      await writeFile(
        conf,
        kind === "proxy"
          ? proxyConf({ port: ports.proxy, dir: root })
          : storageConf({ kind, port: ports[kind], dir: root }),
      );
      // No /dev/log here: -v logs to stderr, kept in a file for when a test needs to know why.
      const log = openSync(path.join(root, "log", `${kind}.log`), "a");
      const child = spawn(`/usr/bin/swift-${kind}-server`, [conf, "-v"], {
        detached: true,
        stdio: ["ignore", log, log],
      });
      if (!child.pid) throw new Error(`could not start swift-${kind}-server`);
      server.groups.push(child.pid);
      child.unref();
      // Written as they start, so a run whose starter died mid-way can still stop them.
      await writeFile(groupsFile(root), JSON.stringify(server.groups));
    }
    for (const kind of SERVERS) await waitFor(() => listening(ports[kind]), `${kind} server not listening`, 60_000);
    await waitFor(
      async () => (await fetch(`${server.endpoint}/healthcheck`)).ok,
      "proxy /healthcheck not answering",
      60_000,
    );
  } catch (error) {
    await stopSwift(server);
    throw error;
  }
  return server;
}

/** Stops every Swift process (by process group) and removes its folder. */
export async function stopSwift(server: Pick<SwiftServer, "groups" | "dir">, { keepDir = false } = {}) {
  const alive = (group: number) => {
    try {
      process.kill(-group, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const group of server.groups) if (alive(group)) process.kill(-group, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (server.groups.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const group of server.groups) if (alive(group)) process.kill(-group, "SIGKILL");
  if (!keepDir) await rm(server.dir, { recursive: true, force: true });
}

/** An S3 client for the server, configured as Hangar's store configures its own. */
export function swiftClient(server: SwiftServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Creates a new, uniquely named bucket and returns its name. */
export async function createTestBucket(server: SwiftServer, prefix = "test"): Promise<string> {
  const bucket = `${prefix}-${randomBytes(6).toString("hex")}`;
  const client = swiftClient(server);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return bucket;
}

/** Where the shared instance of a test run keeps its state; set by tests/swift-setup.ts. */
export const SHARED_SWIFT_DIR_VARIABLE = "HANGAR_TEST_SWIFT_DIR";
const stateFile = (dir: string) => path.join(dir, "server.json");
const errorFile = (dir: string) => path.join(dir, "error.txt");

let shared: Promise<SwiftServer> | undefined;

/**
 * The test run's one Swift, started by whichever test file asks first (test files run in separate
 * processes, so they agree through a lock folder) and stopped by tests/swift-setup.ts. Outside a
 * test run (a bench) it starts a private one, stopped when this process exits.
 */
export function sharedSwift(): Promise<SwiftServer> {
  shared ??= (async () => {
    const runDir = process.env[SHARED_SWIFT_DIR_VARIABLE];
    if (!runDir) {
      const server = await startSwift();
      process.once("exit", () => server.groups.forEach((group) => process.kill(-group, "SIGKILL")));
      return server;
    }
    let owner = false;
    try {
      await mkdir(path.join(runDir, "lock"));
      owner = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (owner) {
      try {
        const server = await startSwift({ dir: path.join(runDir, "server") });
        await writeFile(stateFile(runDir), JSON.stringify(server));
        return server;
      } catch (error) {
        await writeFile(errorFile(runDir), String(error));
        throw error;
      }
    }
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (existsSync(errorFile(runDir))) throw new Error(await readFile(errorFile(runDir), "utf8"));
      if (existsSync(stateFile(runDir))) return JSON.parse(await readFile(stateFile(runDir), "utf8")) as SwiftServer;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("timed out waiting for another test file to start the shared Swift");
  })();
  return shared;
}

/** Stops the run's shared Swift, if a test started one. */
export async function stopSharedSwift(runDir: string): Promise<void> {
  // A starter may still be writing its state: give it the time a cold start takes.
  const deadline = Date.now() + 60_000;
  while (existsSync(path.join(runDir, "lock")) && !existsSync(stateFile(runDir)) && !existsSync(errorFile(runDir))) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const serverDir = path.join(runDir, "server");
  if (existsSync(groupsFile(serverDir))) {
    const groups = JSON.parse(await readFile(groupsFile(serverDir), "utf8")) as number[];
    await stopSwift({ groups, dir: serverDir });
  }
  await rm(runDir, { recursive: true, force: true });
}
