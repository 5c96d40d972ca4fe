// Secrets shared by every process of one Hangar (db/schema/auth.ts instanceSecrets): the first
// process to ask stores its proposal, every later one (here or on another machine) gets that one.
import { eq } from "drizzle-orm";
import { db } from "../client";
import { instanceSecrets } from "../schema";

export async function sharedSecret({ name, proposed }: { name: string; proposed: string }): Promise<string> {
  await db().insert(instanceSecrets).values({ name, value: proposed }).onConflictDoNothing();
  const [row] = await db()
    .select({ value: instanceSecrets.value })
    .from(instanceSecrets)
    .where(eq(instanceSecrets.name, name));
  // The insert above committed a row, or another caller's row was already there.
  return row!.value;
}
