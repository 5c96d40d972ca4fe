// Servers on the host that a sandboxed build must NOT reach: one on loopback and, where the machine
// has one, one on its first non-loopback IPv4 address. Every connection they get is recorded.
import net from "node:net";
import os from "node:os";

export interface HostServers {
  loopbackPort: number;
  /** The machine's own non-loopback IPv4 address and the port there, when it has one. */
  host: { address: string; port: number } | null;
  /** The addresses of every connection received: must stay empty. */
  reached: string[];
  close: () => void;
}

export async function startHostServers(): Promise<HostServers> {
  const reached: string[] = [];
  const servers: net.Server[] = [];
  const listen = async (address: string) => {
    const server = net.createServer((socket) => {
      reached.push(address);
      socket.end("HTTP/1.0 200 OK\r\n\r\nhost secret\n");
    });
    servers.push(server);
    await new Promise<void>((done) => server.listen(0, address, done));
    return (server.address() as net.AddressInfo).port;
  };
  const hostAddress = Object.values(os.networkInterfaces())
    .flat()
    .find((entry) => entry && !entry.internal && entry.family === "IPv4")?.address;
  const loopbackPort = await listen("127.0.0.1");
  const host = hostAddress ? { address: hostAddress, port: await listen(hostAddress) } : null;
  return { loopbackPort, host, reached, close: () => servers.forEach((server) => server.close()) };
}
