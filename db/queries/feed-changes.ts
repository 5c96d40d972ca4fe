// Whether anything a feed is made from changed since a moment: a counter that moves on every
// `hangar_feeds` notification (sent by triggers after the writing transaction commits, migration
// 0015) and whenever this process stops listening, since it could then miss one. A dedicated
// connection listens; until it does, callers are told not to cache.
import pg from "pg";
import { databaseUrl } from "../client";

const state = globalThis as unknown as {
  hangarFeedChanges?: { epoch: number; client: pg.Client | null; connecting: Promise<void> | null };
};

function current() {
  state.hangarFeedChanges ??= { epoch: 0, client: null, connecting: null };
  return state.hangarFeedChanges;
}

function stopListening(client: pg.Client) {
  const watch = current();
  if (watch.client !== client) return;
  watch.client = null;
  watch.epoch += 1;
  client.end().catch(() => {});
}

async function listen(): Promise<void> {
  const watch = current();
  const client = new pg.Client({ connectionString: databaseUrl(), connectionTimeoutMillis: 5_000 });
  client.on("notification", () => {
    watch.epoch += 1;
  });
  client.on("error", () => stopListening(client));
  client.on("end", () => stopListening(client));
  await client.connect();
  await client.query("LISTEN hangar_feeds");
  // Anything that changed before LISTEN took effect must not be served from an older build.
  watch.epoch += 1;
  watch.client = client;
}

/**
 * The current change counter, or null while this process cannot listen (then nothing may be
 * cached). The first call starts listening.
 */
export async function feedChangeEpoch(): Promise<number | null> {
  const watch = current();
  if (!watch.client) {
    watch.connecting ??= listen().finally(() => {
      watch.connecting = null;
    });
    await watch.connecting.catch(() => {});
  }
  return watch.client ? watch.epoch : null;
}

/** Stops listening (tests, shutdown). */
export async function stopFeedChanges(): Promise<void> {
  const client = current().client;
  if (client) stopListening(client);
}
