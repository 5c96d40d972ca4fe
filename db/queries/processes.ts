// The process registry (lib/processes/registry.ts): each web and worker process beats here, and a
// process is alive while its beat is younger than the lease. Every "is its owner alive?" question
// the sweeps ask is `liveProcessSql`, so the lease has one meaning everywhere.
import { sql, type SQL } from "drizzle-orm";
import { db } from "../client";
import { processes, type ProcessKind } from "../schema";

/** How long a process counts as alive after its last heartbeat (it beats every few seconds). */
export const PROCESS_LEASE_SECONDS = 30;

/** True when the process id in `column` (a SQL expression) belongs to a process whose lease holds. */
export function liveProcessSql(column: SQL, leaseSeconds: number): SQL {
  return sql`exists (select 1 from processes p where p.id = ${column}
    and p.heartbeat_at > now() - make_interval(secs => ${leaseSeconds}))`;
}

export interface ProcessIdentity {
  id: string;
  kind: ProcessKind;
  host: string;
  pid: number;
}

export async function insertProcess({ id, kind, host, pid }: ProcessIdentity): Promise<void> {
  await db().insert(processes).values({ id, kind, host, pid });
}

/**
 * Moves a process's heartbeat on. A row swept while the process could not reach the database is
 * put back (the process is evidently alive); returns false then, so the process can say so.
 */
export async function beatProcess({ id, kind, host, pid }: ProcessIdentity): Promise<boolean> {
  const result = await db().execute<{ existed: boolean }>(sql`
    insert into processes (id, kind, host, pid) values (${id}, ${kind}, ${host}, ${pid})
    on conflict (id) do update set heartbeat_at = now()
    returning (xmax <> 0) as existed`);
  return result.rows[0]?.existed ?? false;
}

export async function deleteProcess({ id }: { id: string }): Promise<void> {
  await db().execute(sql`delete from processes where id = ${id}`);
}

/** Whether the process is registered with a lease that holds. */
export async function isProcessAlive({ id, leaseSeconds }: { id: string; leaseSeconds: number }): Promise<boolean> {
  const result = await db().execute<{ alive: boolean }>(
    sql`select ${liveProcessSql(sql`${id}::uuid`, leaseSeconds)} as alive`,
  );
  return result.rows[0]?.alive ?? false;
}

/** Ids of the processes whose lease holds, of any kind and on any machine. */
export async function listLiveProcessIds({ leaseSeconds }: { leaseSeconds: number }): Promise<Set<string>> {
  const result = await db().execute<{ id: string }>(sql`
    select id from processes where heartbeat_at > now() - make_interval(secs => ${leaseSeconds})`);
  return new Set(result.rows.map((row) => row.id));
}

/**
 * Forgets processes long past their lease: their work was ended by then, and a row kept a while
 * says which host and pid a dead owner was when someone reads a failure.
 */
export async function deleteLongDeadProcesses({ olderThanSeconds }: { olderThanSeconds: number }): Promise<number> {
  const result = await db().execute(sql`
    delete from processes where heartbeat_at < now() - make_interval(secs => ${olderThanSeconds})`);
  return result.rowCount ?? 0;
}
