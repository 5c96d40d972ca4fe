// Requests per minute per caller, as a token bucket in this process's memory: refills continuously,
// holds a minute's worth. With several web processes each keeps its own buckets, so the limit is
// per process; it exists to stop a runaway script, not to meter anyone exactly.
import { env } from "@/lib/env";

interface Bucket {
  tokens: number;
  at: number;
}

const buckets = new Map<string, Bucket>();
const MAX_BUCKETS = 100_000;

/** Takes one request from the caller's bucket; answers how many seconds to wait when it is empty. */
export function takeRequest(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number } {
  const perMinute = env().HANGAR_API_RATE_LIMIT;
  const perMs = perMinute / 60_000;
  const bucket = buckets.get(key) ?? { tokens: perMinute, at: now };
  bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
  bucket.at = now;
  if (bucket.tokens < 1) {
    buckets.set(key, bucket);
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }
  bucket.tokens -= 1;
  if (buckets.size >= MAX_BUCKETS && !buckets.has(key)) buckets.clear();
  buckets.set(key, bucket);
  return { ok: true };
}
