import { describe, expect, it } from "vitest";
import { parseRef } from "./refs";

describe("parseRef", () => {
  it("reads each form of a version reference", () => {
    expect(parseRef("debian-12-base")).toEqual({ kind: "channel", image: "debian-12-base", channel: "latest" });
    expect(parseRef("debian-12-base@stable")).toEqual({ kind: "channel", image: "debian-12-base", channel: "stable" });
    expect(parseRef("debian-12-base:2024.06.1")).toEqual({
      kind: "label",
      image: "debian-12-base",
      version: "2024.06.1",
    });
    expect(parseRef("0F8FAD5B-D9CB-469F-A165-70867728950E")).toEqual({
      kind: "id",
      id: "0f8fad5b-d9cb-469f-a165-70867728950e",
    });
  });

  it("refuses references that mix or leave out parts, as a usage error", () => {
    for (const bad of ["", "a@", "@b", "a:", ":1", "a@b:c", "a@b@c", "a:1:2", "two words"]) {
      expect(() => parseRef(bad), bad).toThrow(expect.objectContaining({ code: "usage", exitCode: 2 }));
    }
  });
});
