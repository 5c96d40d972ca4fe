import { describe, expect, it } from "vitest";
import { canonicalArch, canonicalDistro, contentMismatches } from "./mismatch";

const debian12 = { distro: "debian", productName: "Debian GNU/Linux 12 (bookworm)", osVersion: "12", arch: "x86_64" };

describe("contentMismatches", () => {
  it("is silent when typed and detected facts agree, whatever the spelling", () => {
    expect(contentMismatches({ os: "Debian", osVersion: "12", arch: "x86_64" }, debian12)).toEqual([]);
    expect(contentMismatches({ os: "debian gnu/linux", osVersion: "bookworm", arch: "amd64" }, debian12)).toEqual([]);
    expect(
      contentMismatches({ os: "DEBIAN", osVersion: "12.5", arch: "X86_64" }, { ...debian12, osVersion: "12.0" }),
    ).toEqual([]);
    expect(
      contentMismatches(
        { os: "Ubuntu", osVersion: "noble", arch: "arm64" },
        { distro: "ubuntu", osVersion: "24.04", arch: "aarch64" },
      ),
    ).toEqual([]);
    expect(
      contentMismatches(
        { os: "Ubuntu", osVersion: "24.4", arch: "x86_64" },
        { distro: "ubuntu", osVersion: "24.04", arch: "x86_64" },
      ),
    ).toEqual([]);
  });

  it("says where the distribution contradicts what was typed", () => {
    expect(contentMismatches({ os: "Ubuntu", osVersion: "24.04", arch: "x86_64" }, debian12)).toEqual([
      "The OS is given as Ubuntu 24.04, but Debian 12 was found inside the image.",
    ]);
  });

  it("says where the version contradicts within the same distribution", () => {
    expect(contentMismatches({ os: "Debian", osVersion: "11", arch: "x86_64" }, debian12)).toEqual([
      "The OS version is given as Debian 11, but Debian 12 was found inside the image.",
    ]);
    expect(contentMismatches({ os: "Debian", osVersion: "bullseye", arch: "x86_64" }, debian12)).toHaveLength(1);
  });

  it("says where the architecture contradicts, with aliases resolved", () => {
    expect(
      contentMismatches({ os: "Debian", osVersion: "12", arch: "x86_64" }, { ...debian12, arch: "aarch64" }),
    ).toEqual(["The architecture is given as x86_64, but the image holds aarch64 binaries."]);
    expect(
      contentMismatches({ os: "Debian", osVersion: "12", arch: "amd64" }, { ...debian12, arch: "arm64" }),
    ).toHaveLength(1);
  });

  it("reports every contradiction at once", () => {
    expect(
      contentMismatches({ os: "Ubuntu", osVersion: "24.04", arch: "x86_64" }, { ...debian12, arch: "aarch64" }),
    ).toHaveLength(2);
  });

  it("never warns about what it cannot know", () => {
    // A generic or unknown typed OS, a missing detected value, or no OS found at all.
    expect(contentMismatches({ os: "Linux", osVersion: "", arch: "x86_64" }, debian12)).toEqual([]);
    expect(contentMismatches({ os: "Debian", osVersion: "", arch: "x86_64" }, debian12)).toEqual([]);
    expect(
      contentMismatches(
        { os: "Debian", osVersion: "12", arch: "x86_64" },
        { distro: null, osVersion: null, arch: null },
      ),
    ).toEqual([]);
    expect(
      contentMismatches(
        { os: "Ubuntu", osVersion: "24.04", arch: "x86_64" },
        { osFound: false, distro: null, osVersion: null, arch: "aarch64" },
      ),
    ).toEqual([]);
  });

  it("reads the product name when the distro id is unusual", () => {
    expect(
      contentMismatches(
        { os: "Fedora", osVersion: "40", arch: "x86_64" },
        { distro: "unknown", productName: "Debian GNU/Linux 12", osVersion: "12", arch: "x86_64" },
      ),
    ).toHaveLength(1);
  });
});

describe("canonical names", () => {
  it("folds aliases", () => {
    expect(canonicalArch("amd64")).toBe("x86_64");
    expect(canonicalArch("ARM64")).toBe("aarch64");
    expect(canonicalArch("ppc64el")).toBe("ppc64le");
    expect(canonicalArch("")).toBeNull();
    expect(canonicalDistro("Debian GNU/Linux")?.id).toBe("debian");
    expect(canonicalDistro("Red Hat Enterprise Linux Server")?.id).toBe("rhel");
    expect(canonicalDistro("rocky-linux")?.id).toBe("rocky");
    expect(canonicalDistro("Linux")).toBeNull();
  });
});
