import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { verifyPassword } from "@/lib/auth/password";
import { unique } from "@/tests/fixtures";
import { db } from "./client";
import { ensureAdmin } from "./seed";
import { users } from "./schema";

const passwordHashOf = async (id: string) =>
  (await db().select({ hash: users.passwordHash, role: users.role }).from(users).where(eq(users.id, id)))[0];

describe("ensureAdmin", () => {
  it("generates a password, prints it once, and stores only an argon2 hash", async () => {
    const email = `${unique("admin")}@test.local`;
    const lines: string[] = [];
    const id = await ensureAdmin({ email, log: (line) => lines.push(line) });
    const printed = lines.join("\n").match(/password: (\S+)/)?.[1];
    expect(printed).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const row = await passwordHashOf(id);
    expect(row?.role).toBe("admin");
    expect(row?.hash).toMatch(/^\$argon2id\$/);
    expect(row?.hash).not.toContain(printed!);
    expect(await verifyPassword(row!.hash!, printed!)).toBe(true);

    const second: string[] = [];
    expect(await ensureAdmin({ email, log: (line) => second.push(line) })).toBe(id);
    expect(second.join("\n")).not.toMatch(/password:/);
  });

  it("makes HANGAR_ADMIN_PASSWORD authoritative, so an operator can reset it", async () => {
    const email = `${unique("admin")}@test.local`;
    const id = await ensureAdmin({ email, password: "first-password-1", log: () => {} });
    await ensureAdmin({ email, password: "second-password-2", log: () => {} });
    const row = await passwordHashOf(id);
    expect(await verifyPassword(row!.hash!, "second-password-2")).toBe(true);
    expect(await verifyPassword(row!.hash!, "first-password-1")).toBe(false);
  });
});
