// Sign-in timing, the account-enumeration check: a failed password sign-in for an email with no
// account (and for an account without a password) against a wrong password for a real local
// account, through attemptPasswordSignIn (lookup, argon2, counters, audit), interleaved, medians.
//   unknown_vs_known   no such account / wrong password for a real one; target 0.8–1.25
//   no_password_vs_known  an SSO-only account (no password hash) / the same anchor
// Each attempt runs on the limiter's clock a day after the previous one, so no lock cuts it short.
import { eq } from "drizzle-orm";
import { db } from "../db/client";
import { users } from "../db/schema";
import { hashPassword } from "../lib/auth/password";
import { attemptPasswordSignIn } from "../lib/auth/sign-in-guard";
import { type BenchRow, median } from "./report";
import { openBenchWorld } from "./world";

const ROUNDS = Number(process.env.BENCH_SIGNIN_ROUNDS ?? 25);
const day = 24 * 60 * 60 * 1000;

export async function run(): Promise<BenchRow[]> {
  const world = await openBenchWorld("signin");
  try {
    const [known] = await db()
      .insert(users)
      .values({ email: "known@bench.local", passwordHash: await hashPassword("the right password") })
      .returning({ email: users.email });
    const [ssoOnly] = await db()
      .insert(users)
      .values({ email: "sso@bench.local" })
      .returning({ id: users.id, email: users.email });
    await db().update(users).set({ passwordHash: null }).where(eq(users.id, ssoOnly!.id));
    let clock = Date.now();
    const attempt = async (email: string) => {
      clock += day;
      const started = performance.now();
      const result = await attemptPasswordSignIn({
        email,
        password: "a wrong guess",
        address: "192.0.2.1",
        now: new Date(clock),
      });
      const ms = performance.now() - started;
      if (result.ok || result.throttled) throw new Error(`expected a plain failure for ${email}`);
      return ms;
    };
    // The first unknown email pays for making the dummy hash once per process: warm it up.
    await attempt("warm-up@bench.local");
    const times = { known: [] as number[], unknown: [] as number[], noPassword: [] as number[] };
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = [
        async () => times.known.push(await attempt(known!.email)),
        async () => times.unknown.push(await attempt(`nobody-${round}@bench.local`)),
        async () => times.noPassword.push(await attempt(ssoOnly!.email)),
      ];
      for (const step of round % 2 ? order.reverse() : order) await step();
    }
    const anchor = median(times.known);
    const row = (metric: string, values: number[]): BenchRow => {
      const value = median(values);
      const ratio = value / anchor;
      return { metric, value, unit: "ms", anchor, ratio, target: "0.8–1.25", pass: ratio >= 0.8 && ratio <= 1.25 };
    };
    return [row("unknown_vs_known", times.unknown), row("no_password_vs_known", times.noPassword)];
  } finally {
    await world.close();
  }
}
