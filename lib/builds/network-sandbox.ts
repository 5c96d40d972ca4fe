// Builds that need the network (install, uninstall, update steps) must reach the package mirrors and
// nothing else. libguestfs gives its appliance qemu's user-mode network, whose gateway address is
// the loopback of the network namespace qemu runs in, and which reaches whatever that namespace can
// route to. So virt-customize runs in a namespace of its own (`unshare --net`) that has only a
// loopback: there, a small forwarder started before virt-customize listens on 127.0.0.1:3128 and
// hands every connection to Hangar's egress proxy over a Unix socket (file-system sockets cross
// namespaces). The guest sees that port at the gateway, and virt-customize passes http_proxy and
// https_proxy from its environment into every command it runs in the guest, so the package manager
// uses the proxy while the output image keeps no proxy setting. Anything else the guest tries (the
// host's services through the gateway, a private network) finds nothing or no route.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { env } from "@/lib/env";
import { startEgressProxy, type EgressPolicy } from "./egress-proxy";
import { defaultMirrorHosts } from "./mirrors";

/** The proxy's port inside the build's namespace (it is alone there, so a fixed port is safe). */
export const NAMESPACE_PROXY_PORT = 3128;
/** libguestfs runs qemu's user network as 169.254.0.0/16; the gateway (.2.2) is the namespace's loopback. */
export const GUEST_GATEWAY = "169.254.2.2";

// Runs inside the new namespace as `node -e`: brings up loopback, forwards 127.0.0.1:<port> to the
// proxy's socket, then runs the command with the proxy in its environment and exits with its code.
// It stays in the build's process group, so stopping the build stops it as well.
const FORWARDER = `
const { execFileSync, spawn } = require("node:child_process");
const net = require("node:net");
const [socketPath, port, proxyUrl, command, ...args] = process.argv.slice(1);
execFileSync("ip", ["link", "set", "lo", "up"]);
const server = net.createServer((guest) => {
  const proxy = net.connect(socketPath);
  guest.on("error", () => proxy.destroy());
  proxy.on("error", () => guest.destroy());
  guest.pipe(proxy).pipe(guest);
});
server.listen(Number(port), "127.0.0.1", () => {
  const env = { ...process.env, http_proxy: proxyUrl, https_proxy: proxyUrl, no_proxy: "" };
  const child = spawn(command, args, { stdio: "inherit", env });
  child.on("error", (error) => { console.error(error.message); process.exit(127); });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
});
`;

export function egressPolicy(): EgressPolicy {
  const config = env();
  return {
    mirrors: config.HANGAR_BUILD_MIRRORS ?? defaultMirrorHosts(),
    allowedAddresses: config.HANGAR_BUILD_MIRROR_ADDRESSES,
    ports: [80, 443],
  };
}

export interface BuildSandbox {
  /** The command and arguments that run `command args` inside the sandbox. */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  close(): Promise<void>;
}

const unsandboxed: BuildSandbox = { wrap: (command, args) => ({ command, args }), close: async () => {} };

/**
 * The sandbox for one virt-customize run. Without network steps, virt-customize runs with
 * --no-network and its appliance has no network device at all, so it needs none.
 */
export async function openBuildSandbox({
  network,
  log,
  policy = egressPolicy(),
}: {
  network: boolean;
  log: (line: string) => void;
  policy?: EgressPolicy;
}): Promise<BuildSandbox> {
  if (!network) return unsandboxed;
  if (process.getuid?.() !== 0) {
    throw new Error(
      "This recipe installs or updates packages, which Hangar only allows in an isolated network namespace, and creating one needs root: run Hangar's worker as root, or build without install, uninstall and update steps.",
    );
  }
  // A short path: Unix socket paths are limited to 107 bytes.
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-egress-"));
  const socketPath = path.join(dir, "proxy.sock");
  const proxy = await startEgressProxy({ socketPath, policy, log });
  log(`[hangar] Network: only through Hangar's proxy, to ${policy.mirrors.join(", ")}`);
  return {
    wrap: (command, args) => ({
      command: "unshare",
      args: [
        "--net",
        "--",
        process.execPath,
        "-e",
        FORWARDER,
        socketPath,
        String(NAMESPACE_PROXY_PORT),
        `http://${GUEST_GATEWAY}:${NAMESPACE_PROXY_PORT}`,
        command,
        ...args,
      ],
    }),
    close: async () => {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
