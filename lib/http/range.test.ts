import { describe, expect, it } from "vitest";
import { contentDisposition, parseRange } from "./range";

describe("parseRange", () => {
  it.each([
    [null, { kind: "full" }],
    ["bytes=0-99", { kind: "partial", start: 0, end: 99 }],
    ["bytes=100-", { kind: "partial", start: 100, end: 999 }],
    ["bytes=-100", { kind: "partial", start: 900, end: 999 }],
    ["bytes=-5000", { kind: "partial", start: 0, end: 999 }],
    ["bytes=990-5000", { kind: "partial", start: 990, end: 999 }],
    ["bytes=999-999", { kind: "partial", start: 999, end: 999 }],
    ["bytes=1000-", { kind: "unsatisfiable" }],
    ["bytes=50-10", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
    ["bytes=-", { kind: "unsatisfiable" }],
    ["items=0-1", { kind: "unsatisfiable" }],
    ["bytes=0-1,5-6", { kind: "full" }],
  ])("%s on 1000 bytes → %j", (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected);
  });
});

describe("contentDisposition", () => {
  it("keeps only a safe base name and encodes the original", () => {
    expect(contentDisposition("../../etc/passwd")).toBe(`attachment; filename="passwd"; filename*=UTF-8''passwd`);
    expect(contentDisposition('evil"\r\nSet-Cookie: x=1.qcow2')).not.toMatch(/[\r\n"]{2}|\r|\n/);
    expect(contentDisposition("débian 12.qcow2")).toBe(
      `attachment; filename="d_bian_12.qcow2"; filename*=UTF-8''d%C3%A9bian%2012.qcow2`,
    );
    expect(contentDisposition("")).toBe(`attachment; filename="image"; filename*=UTF-8''image`);
  });
});
