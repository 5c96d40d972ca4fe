// The secret every process shares: whoever asks first makes it, everyone after gets that one.
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sharedSecret } from "./instance-secrets";

describe("sharedSecret", () => {
  it("keeps the first proposal and hands it to every later caller", async () => {
    const name = `test-${randomUUID()}`;
    const first = await sharedSecret({ name, proposed: "first" });
    const second = await sharedSecret({ name, proposed: "second" });
    expect([first, second]).toEqual(["first", "first"]);
  });

  it("gives processes starting at the same moment one secret", async () => {
    const name = `test-${randomUUID()}`;
    const proposals = Array.from({ length: 8 }, () => randomBytes(16).toString("hex"));
    const answers = await Promise.all(proposals.map((proposed) => sharedSecret({ name, proposed })));
    expect(new Set(answers).size).toBe(1);
    expect(proposals).toContain(answers[0]);
  });
});
