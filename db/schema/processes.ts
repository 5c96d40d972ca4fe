// Hangar's running processes (web and worker, on any machine) and the blob writes they have under
// way (lib/processes). Work records the id of the process doing it, with no foreign key: a process
// whose row is gone or whose heartbeat is older than the lease is dead, and what it owned may go.
import { index, integer, pgTable, text, timestamp, uuid, check } from "drizzle-orm/pg-core";
import { inList } from "./columns";

export const processKinds = ["web", "worker"] as const;
export type ProcessKind = (typeof processKinds)[number];

export const processes = pgTable(
  "processes",
  {
    id: uuid("id").primaryKey(),
    kind: text("kind").$type<ProcessKind>().notNull(),
    host: text("host").notNull(),
    pid: integer("pid").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  () => [check("processes_kind_check", inList("kind", processKinds))],
);

// Recorded before a blob's bytes are put and removed once the row that refers to them committed (or
// the work failed): a blob with a write in progress by a live process is not an orphan.
export const blobWrites = pgTable(
  "blob_writes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sha256: text("sha256").notNull(),
    processId: uuid("process_id"),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [index("blob_writes_sha256_idx").on(table.sha256), index("blob_writes_process_idx").on(table.processId)],
);
