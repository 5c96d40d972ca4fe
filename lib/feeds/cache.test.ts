import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { feedChangeEpoch } from "@/db/queries/feed-changes";
import { createTestProject } from "@/tests/fixtures";
import { cachedJson } from "./cache";

async function settled(epoch: number | null) {
  // A notification arrives after its transaction commits, on another connection: wait for it.
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if ((await feedChangeEpoch()) !== epoch) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("no hangar_feeds notification arrived");
}

describe("feed document cache", () => {
  it("serves the text it made until something a feed is made from changes", async () => {
    let builds = 0;
    const build = async () => ({ built: ++builds });
    expect(await feedChangeEpoch()).not.toBeNull();
    const first = await cachedJson("test:doc", build);
    expect(await cachedJson("test:doc", build)).toBe(first);
    expect(builds).toBe(1);

    const before = await feedChangeEpoch();
    await createTestProject({ members: [] }); // projects: a publisher's name comes from there
    await settled(before);
    expect(JSON.parse((await cachedJson("test:doc", build)).toString())).toEqual({ built: 2 });

    const again = await feedChangeEpoch();
    await db().execute(sql`update images set published = published where false`);
    await settled(again);
    await cachedJson("test:doc", build);
    expect(builds).toBe(3);
  });

  it("keeps nothing that was built while the data changed", async () => {
    let builds = 0;
    const racing = async () => {
      builds += 1;
      const before = await feedChangeEpoch();
      await createTestProject({ members: [] });
      await settled(before);
      return { builds };
    };
    await cachedJson("test:race", racing);
    await cachedJson("test:race", async () => ({ builds: ++builds }));
    expect(builds).toBe(2);
  });
});
