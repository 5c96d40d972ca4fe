// A build with network stays in its box, proven on a real Debian guest in one appliance launch: a
// run step (before the install, so it has the network too) tries the host's own services through
// the gateway, the host's other address and a private address, directly and through Hangar's
// proxy, and reaches none of them; the install from the allowed Debian mirror then works.
import { execFile } from "node:child_process";
import { lookup } from "node:dns/promises";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import ipaddr from "ipaddr.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHostServers, type HostServers } from "@/tests/host-servers";
import { db } from "@/db/client";
import { createReadyVersion } from "@/db/queries/images";
import { buildLogs, builds, imageVersions } from "@/db/schema";
import { saveRecipeAction, startBuildAction as startBuild } from "@/lib/actions/recipe-actions";
import { getBlobStore } from "@/lib/storage";
import { debianGuest, debianMirror } from "@/tests/debian-guest";
import { createTestImage, createTestProject, createTestUser, viewerOf, storeTestBlob } from "@/tests/fixtures";
import { runBuild } from "./engine";

const run = promisify(execFile);

// Only the guest's Debian mirror is allowed. This machine's network answers for Debian's mirror
// from a non-global address, which the proxy refuses unless an admin allows it: allow exactly those.
const mirror = new URL(debianMirror()).hostname;
const mirrorAddresses = (await lookup(mirror, { all: true }))
  .map((entry) => entry.address)
  .filter((address) => ipaddr.parse(address).range() !== "unicast");
process.env.HANGAR_BUILD_MIRRORS = mirror;
process.env.HANGAR_BUILD_MIRROR_ADDRESSES = mirrorAddresses.join(",");

let projectId: string;
let member: Awaited<ReturnType<typeof createTestUser>>;
let baseSlug: string;
let outputSlug: string;
let hostServers: HostServers;

beforeAll(async () => {
  member = await createTestUser();
  projectId = (await createTestProject({ members: [{ viewer: member, role: "member" }] })).id;
  member = (await viewerOf(member.id))!;
  hostServers = await startHostServers();
  const disk = await debianGuest();
  const hashes = await storeTestBlob(disk);
  const base = await createTestImage({ projectId, versions: [] });
  await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: null,
      values: {
        imageId: base.id,
        version: "12",
        format: "qcow2",
        virtualSize: 1024 ** 3,
        fileSize: hashes.size,
        sha256: hashes.sha256,
        sha512: hashes.sha512,
        releaseStatus: "approved",
        source: "upload",
      },
    }),
  );
  baseSlug = base.slug;
  outputSlug = (await createTestImage({ projectId, versions: [] })).slug;
}, 1_200_000);

afterAll(async () => {
  hostServers.close();
});

/** One line per attempt, "<name> reached" or "<name> blocked", into /root/probe. */
function probeScript(): string {
  const direct = (name: string, host: string, port: number) =>
    `if timeout 10 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null; then echo "${name} reached"; else echo "${name} blocked"; fi >> /root/probe`;
  // Through the proxy: a 200 would mean the proxy connected; anything else (403) is a refusal.
  const proxied = (name: string, request: string) =>
    `status=$(timeout 20 bash -c 'exec 3<>/dev/tcp/169.254.2.2/3128; printf "${request}\\r\\nHost: x\\r\\n\\r\\n" >&3; head -c 12 <&3' 2>/dev/null); case "$status" in *" 200") echo "${name} reached";; *) echo "${name} blocked $status";; esac >> /root/probe`;
  return [
    "set -u",
    `echo "proxy env: $http_proxy" >> /root/probe`,
    direct("gateway-loopback", "169.254.2.2", hostServers.loopbackPort),
    direct("gateway-postgres", "169.254.2.2", 5432),
    ...(hostServers.host ? [direct("host-address", hostServers.host.address, hostServers.host.port)] : []),
    direct("private-10", "10.0.0.1", 80),
    direct("private-192", "192.168.1.1", 80),
    proxied("proxy-loopback", `GET http://127.0.0.1:${hostServers.loopbackPort}/ HTTP/1.0`),
    proxied("proxy-localhost", `GET http://localhost:${hostServers.loopbackPort}/ HTTP/1.0`),
    ...(hostServers.host
      ? [proxied("proxy-host-address", `CONNECT ${hostServers.host.address}:${hostServers.host.port} HTTP/1.1`)]
      : []),
    proxied("proxy-private", "CONNECT 10.0.0.1:443 HTTP/1.1"),
    proxied("proxy-metadata", "GET http://169.254.169.254/latest/meta-data/ HTTP/1.0"),
    "cat /root/probe",
  ].join("\n");
}

describe("a build that installs packages", () => {
  it("reaches the allowed mirror through Hangar's proxy and nothing on the host or a private network", async () => {
    const saved = await saveRecipeAction(member, {
      projectId,
      document: {
        name: `network-${Date.now()}`,
        description: "",
        base: { image: baseSlug, version: "12" },
        steps: [
          { type: "run", script: probeScript() },
          { type: "install", packages: ["hello"] },
          { type: "run", script: "hello > /root/hello.txt\n" },
        ],
        output: { image: outputSlug, format: "qcow2" },
      },
    });
    if (!saved.ok) throw new Error(saved.message);
    const started = await startBuild(member, { recipeId: saved.data.recipeId });
    if (!started.ok || !started.data.queued) throw new Error("expected a new build");
    const buildId = started.data.buildId;
    await runBuild({ buildId });

    const [done] = await db().select().from(builds).where(eq(builds.id, buildId));
    const log = (await db().select({ line: buildLogs.line }).from(buildLogs).where(eq(buildLogs.buildId, buildId)))
      .map((row) => row.line)
      .join("\n");
    expect(done!.failureReason, log).toBeNull();
    expect(done!.status).toBe("succeeded");
    expect(hostServers.reached).toEqual([]);
    // Every refusal is in the build log, with the reason.
    expect(log).toMatch(
      new RegExp(
        `refused GET http://127\\.0\\.0\\.1:${hostServers.loopbackPort}/: 127\\.0\\.0\\.1 is not an allowed package mirror`,
      ),
    );
    expect(log).toMatch(/refused CONNECT 10\.0\.0\.1:443/);

    const [version] = await db().select().from(imageVersions).where(eq(imageVersions.id, done!.outputVersionId!));
    const { stdout } = await run(
      "virt-cat",
      ["--format=qcow2", "-a", await getBlobStore().localPath(version!.sha256!), "/root/probe", "/root/hello.txt"],
      {
        env: { ...process.env, LIBGUESTFS_BACKEND: "direct" },
        timeout: 600_000,
      },
    );
    const probe = stdout.split("\n");
    expect(probe[0]).toBe("proxy env: http://169.254.2.2:3128");
    const attempts = probe.filter((line) => / (reached|blocked)/.test(line));
    expect(attempts.length).toBe(hostServers.host ? 10 : 8);
    for (const line of attempts) expect(line).toMatch(/ blocked/);
    expect(attempts.filter((line) => line.startsWith("proxy-")).every((line) => line.includes("403"))).toBe(true);
    expect(stdout).toContain("Hello, world!");
  }, 1_800_000);
});
