// A web process receiving tus uploads, for lib/imports/tus-s3.test.ts: run with tsx as its own OS
// process (with its own HANGAR_DATA_DIR), it registers, serves /api/uploads on a loopback port as
// the real server does, and prints `{ port, processId }` as one JSON line. UPLOAD_VIEWER is the
// viewer every request comes from; UPLOAD_LEASE_SECONDS the lease it applies to other processes.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Viewer } from "@/db/queries/users";
import { createUploadServer } from "@/lib/imports/tus";
import { registerProcess } from "@/lib/processes/registry";

const viewer = JSON.parse(process.env.UPLOAD_VIEWER!) as Viewer;
const registered = await registerProcess({ kind: "web", heartbeatMs: 300 });
const { handleNode } = createUploadServer({
  viewerOf: async () => viewer,
  leaseSeconds: Number(process.env.UPLOAD_LEASE_SECONDS ?? 30),
});
const server = http.createServer((req, res) => {
  handleNode(req, res).catch((error: unknown) => {
    console.error(error);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
console.log(JSON.stringify({ port: (server.address() as AddressInfo).port, processId: registered.id }));
process.on("SIGTERM", () => {
  void registered.deregister().finally(() => process.exit(0));
});
