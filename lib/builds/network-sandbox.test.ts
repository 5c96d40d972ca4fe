// The sandbox without an appliance: a shell run through the same wrapper as virt-customize finds
// only a loopback, can't reach a server on the host's loopback or its other address, and finds
// Hangar's proxy (which refuses that server too) on its own 127.0.0.1:3128, as the guest's gateway
// does. The full guest path is proven in build-network.test.ts.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHostServers, type HostServers } from "@/tests/host-servers";
import { aptSourceUris } from "./mirrors";
import { NAMESPACE_PROXY_PORT, openBuildSandbox } from "./network-sandbox";

const run = promisify(execFile);
let hostServers: HostServers;

beforeAll(async () => {
  hostServers = await startHostServers();
});

afterAll(() => {
  hostServers.close();
});

describe("the build network sandbox", () => {
  it("runs the command in a namespace whose only way out is the proxy", async () => {
    const log: string[] = [];
    const sandbox = await openBuildSandbox({
      network: true,
      log: (line) => log.push(line),
      policy: { mirrors: ["deb.debian.org"], allowedAddresses: [], ports: [80, 443] },
    });
    const tryConnect = (name: string, host: string, port: number) =>
      `if timeout 5 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null; then echo "${name} reached"; else echo "${name} blocked"; fi`;
    const script = [
      "ip -o link show | cut -d: -f2 | tr -d ' ' | tr '\\n' ' '; echo",
      'echo "proxy: $http_proxy $https_proxy"',
      tryConnect("loopback", "127.0.0.1", hostServers.loopbackPort),
      ...(hostServers.host ? [tryConnect("host-address", hostServers.host.address, hostServers.host.port)] : []),
      tryConnect("private", "10.0.0.1", 80),
      `timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${NAMESPACE_PROXY_PORT}; printf "GET http://127.0.0.1:${hostServers.loopbackPort}/ HTTP/1.0\\r\\n\\r\\n" >&3; head -1 <&3'`,
    ].join("\n");
    try {
      const { command, args } = sandbox.wrap("bash", ["-c", script]);
      const { stdout } = await run(command, args, { timeout: 60_000 });
      const lines = stdout.trim().split("\n");
      expect(lines[0]!.trim()).toBe("lo");
      expect(lines[1]).toBe(
        `proxy: http://169.254.2.2:${NAMESPACE_PROXY_PORT} http://169.254.2.2:${NAMESPACE_PROXY_PORT}`,
      );
      expect(lines.slice(2, -1)).toEqual([
        "loopback blocked",
        ...(hostServers.host ? ["host-address blocked"] : []),
        "private blocked",
      ]);
      expect(lines.at(-1)).toMatch(/^HTTP\/1\.1 403 Forbidden/);
      expect(hostServers.reached).toEqual([]);
      expect(log.at(-1)).toMatch(
        new RegExp(
          `refused GET http://127\\.0\\.0\\.1:${hostServers.loopbackPort}/: 127\\.0\\.0\\.1 is not an allowed package mirror`,
        ),
      );
    } finally {
      await sandbox.close();
    }
  });

  it("passes the command's exit code through", async () => {
    const sandbox = await openBuildSandbox({
      network: true,
      log: () => {},
      policy: { mirrors: [], allowedAddresses: [], ports: [80] },
    });
    try {
      const { command, args } = sandbox.wrap("sh", ["-c", "exit 7"]);
      await expect(run(command, args)).rejects.toMatchObject({ code: 7 });
    } finally {
      await sandbox.close();
    }
  });

  it("leaves a build without network steps alone (it has no network device at all)", async () => {
    const sandbox = await openBuildSandbox({ network: false, log: () => {} });
    expect(sandbox.wrap("virt-customize", ["--no-network"])).toEqual({
      command: "virt-customize",
      args: ["--no-network"],
    });
  });
});

describe("apt sources", () => {
  it("reads the mirror URIs of one-line and deb822 sources, skipping comments and other schemes", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "hangar-apt-"));
    await mkdir(path.join(root, "sources.list.d"));
    await writeFile(
      path.join(root, "sources.list"),
      "# deb http://commented.example/debian bookworm main\ndeb [arch=amd64] http://mirror.example/debian bookworm main\ndeb-src https://src.example/debian bookworm main\ndeb cdrom:[Debian]/ bookworm main\n",
    );
    await writeFile(
      path.join(root, "sources.list.d", "debian.sources"),
      "Types: deb\nURIs: http://deb.example/debian http://deb2.example/debian\nSuites: bookworm\n",
    );
    await writeFile(path.join(root, "sources.list.d", "ignored.save"), "deb http://ignored.example/ x main\n");
    expect(aptSourceUris(root)).toEqual([
      "http://mirror.example/debian",
      "https://src.example/debian",
      "http://deb.example/debian",
      "http://deb2.example/debian",
    ]);
  });
});
