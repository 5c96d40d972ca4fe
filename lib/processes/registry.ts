// Every web and worker process, on any machine, registers in PostgreSQL and beats every few
// seconds; it is dead once its beat is older than the lease (db/queries/processes.ts). Work records
// its owner's id, so a sweep ends only what a dead process left: never what a live one is doing.
import { randomUUID } from "node:crypto";
import os from "node:os";
import { beatProcess, deleteProcess, insertProcess } from "@/db/queries/processes";
import type { ProcessKind } from "@/db/schema";
import { setCurrentProcessId } from "./identity";

export interface RegisteredProcess {
  id: string;
  /** Stops the heartbeat and removes the row: what it owned is then free for any sweep. */
  deregister(): Promise<void>;
}

export async function registerProcess({
  kind,
  heartbeatMs = 5000,
  log = () => {},
}: {
  kind: ProcessKind;
  heartbeatMs?: number;
  log?: (line: string) => void;
}): Promise<RegisteredProcess> {
  const row = { id: randomUUID(), kind, host: os.hostname(), pid: process.pid };
  await insertProcess(row);
  setCurrentProcessId(row.id);
  let beating = false;
  const timer = setInterval(() => {
    if (beating) return;
    beating = true;
    beatProcess(row)
      .then((existed) => {
        if (!existed)
          log(
            `This process (${row.id}) missed its heartbeats for longer than the lease; other processes may have ended its work.`,
          );
      })
      .catch((error: unknown) => log(`Process heartbeat failed: ${(error as Error).message}`))
      .finally(() => (beating = false));
  }, heartbeatMs);
  // The heartbeat alone never keeps a process running.
  timer.unref();
  return {
    id: row.id,
    async deregister() {
      clearInterval(timer);
      setCurrentProcessId(null);
      await deleteProcess({ id: row.id });
    },
  };
}
