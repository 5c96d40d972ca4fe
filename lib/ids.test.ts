import { describe, expect, it } from "vitest";
import { isUuid } from "./ids";

describe("isUuid", () => {
  it("takes a uuid in either case", () => {
    expect(isUuid("0b7c7a52-3c1e-4c4e-9a3f-2f1d8e6b9c01")).toBe(true);
    expect(isUuid("0B7C7A52-3C1E-4C4E-9A3F-2F1D8E6B9C01")).toBe(true);
  });

  it("refuses anything a uuid column would throw on", () => {
    for (const value of [
      "",
      "not-a-uuid",
      "0b7c7a52-3c1e-4c4e-9a3f-2f1d8e6b9c0",
      "0b7c7a52-3c1e-4c4e-9a3f-2f1d8e6b9c01 ",
      "0b7c7a523c1e4c4e9a3f2f1d8e6b9c01",
      "' or 1=1 --",
    ]) {
      expect(isUuid(value), value).toBe(false);
    }
  });
});
