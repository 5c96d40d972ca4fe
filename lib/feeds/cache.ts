// Feed indexes (OpenNebula's, simplestreams') as JSON text, kept per process until anything they
// are made from changes (db/queries/feed-changes.ts): a platform polling a 10,000-version feed gets
// the text already made. A build that saw the data change while it ran is not kept.
import { feedChangeEpoch } from "@/db/queries/feed-changes";

const MAX_ENTRIES = 200;
const documents = new Map<string, { epoch: number; bytes: Buffer }>();

/** The document as UTF-8 JSON bytes (kept encoded: a 10 MB index is not encoded again per request). */
export async function cachedJson(key: string, build: () => Promise<unknown>): Promise<Buffer> {
  const epoch = await feedChangeEpoch();
  const kept = documents.get(key);
  if (epoch !== null && kept?.epoch === epoch) return kept.bytes;
  const bytes = Buffer.from(JSON.stringify(await build()));
  if (epoch !== null && (await feedChangeEpoch()) === epoch) {
    documents.delete(key);
    documents.set(key, { epoch, bytes });
    // The oldest first out: Map keeps insertion order.
    if (documents.size > MAX_ENTRIES) documents.delete(documents.keys().next().value!);
  }
  return bytes;
}
