import { describe, expect, it } from "vitest";
import { formatBytes, formatEta, progressLine, progressMeter, table } from "./format";
import { parseSse } from "./commands/builds";
import { parseByteSize, parseUploadMetadata } from "./commands/push";

describe("progress formatting", () => {
  it("says sizes in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(64 * 1024 ** 2)).toBe("64 MiB");
    expect(formatBytes(1.25 * 1024 ** 3)).toBe("1.3 GiB");
  });

  it("gives the time left as mm:ss or h:mm:ss, and --:-- when unknown", () => {
    expect(formatEta(0)).toBe("00:00");
    expect(formatEta(61.2)).toBe("01:02");
    expect(formatEta(3 * 3600 + 5)).toBe("3:00:05");
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe("--:--");
  });

  it("shows done, total, percent, rate and ETA", () => {
    expect(progressLine({ done: 256 * 1024 ** 2, total: 1024 ** 3, rate: 128 * 1024 ** 2 })).toBe(
      "256 MiB / 1.0 GiB (25%)  128 MiB/s  ETA 00:06",
    );
    expect(progressLine({ done: 10, total: null, rate: 0 })).toBe("10 B  0 B/s");
  });

  it("draws nothing when stderr is not a terminal", () => {
    const written: string[] = [];
    const meter = progressMeter({ enabled: false, write: (text) => written.push(text), label: "f", total: 10 });
    meter.update(5);
    meter.finish(10);
    expect(written).toEqual([]);
    const shown = progressMeter({ enabled: true, write: (text) => written.push(text), label: "f", total: 10 });
    shown.finish(10);
    expect(written.join("")).toMatch(/^\r\x1b\[2Kf 10 B \/ 10 B \(100%\) .*\n$/);
  });

  it("aligns table columns", () => {
    expect(
      table(
        ["A", "BB"],
        [
          ["xxx", null],
          ["y", "z"],
        ],
      ),
    ).toBe("A    BB\nxxx  -\ny    z");
  });
});

describe("wire formats", () => {
  it("splits an event stream, keeping an unfinished event for later", () => {
    const { events, rest } = parseSse(
      'id: 7\nevent: log\ndata: [{"line":"a"}]\n\n: ping\n\nevent: end\ndata: {"status"',
    );
    expect(events).toEqual([{ id: "7", event: "log", data: '[{"line":"a"}]' }]);
    expect(rest).toBe('event: end\ndata: {"status"');
  });

  it("reads tus metadata and chunk sizes", () => {
    expect(parseUploadMetadata(`versionId ${Buffer.from("v-1").toString("base64")},empty`)).toEqual({
      versionId: "v-1",
      empty: "",
    });
    expect(parseByteSize("8M")).toBe(8 * 1024 ** 2);
    expect(parseByteSize("512k")).toBe(512 * 1024);
    expect(parseByteSize("100")).toBe(100);
    expect(() => parseByteSize("lots")).toThrow(/not a size/);
  });
});
