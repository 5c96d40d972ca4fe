import { pool } from "../client";
import { checkDatabase, isConnectionError } from "../health";

/** Whether the database answers a trivial query now; a connection failure also starts the probe. */
export async function pingDatabase(): Promise<boolean> {
  try {
    await pool().query("select 1");
    return true;
  } catch (error) {
    if (isConnectionError(error)) checkDatabase();
    return false;
  }
}
