import { describe, expect, it } from "vitest";
import {
  cleanConsoleLine,
  ConsoleLines,
  fatalLine,
  LOGIN_PROMPT_PATTERN,
  MAX_CONSOLE_LINE,
  successMatcher,
} from "./boot-console";

describe("console lines", () => {
  it("drops escape sequences and control characters a guest prints", () => {
    expect(cleanConsoleLine("\x1b[0;32m  OK  \x1b[0m] Started \x1b]0;title\x07Journal\x00\x07 Service.")).toBe(
      "  OK  ] Started Journal Service.",
    );
    expect(cleanConsoleLine("<script>alert(1)</script>")).toBe("<script>alert(1)</script>"); // text, shown as text
    expect(cleanConsoleLine("x".repeat(MAX_CONSOLE_LINE + 50))).toHaveLength(MAX_CONSOLE_LINE);
  });

  it("splits on \\r\\n, \\r and \\n across chunks and keeps the unfinished line apart", () => {
    const lines = new ConsoleLines();
    expect(lines.push("Booting Lin")).toEqual([]);
    expect(lines.push("ux\r\n\r\nDebian GNU/Linux 12 hangar-debian ttyS0\r\n\rhangar-debian login: ")).toEqual([
      "Booting Linux",
      "Debian GNU/Linux 12 hangar-debian ttyS0",
    ]);
    expect(lines.partial).toBe("hangar-debian login:");
    expect(lines.end()).toEqual(["hangar-debian login:"]);
  });

  it("never holds an endless line", () => {
    const lines = new ConsoleLines();
    expect(lines.push("y".repeat(5 * MAX_CONSOLE_LINE))).toHaveLength(1);
  });
});

describe("success and failure", () => {
  it("takes a login prompt by default and a marker literally", () => {
    const login = successMatcher(LOGIN_PROMPT_PATTERN);
    expect(login("hangar-debian login:")).toBe(true);
    expect(login("localhost login: ")).toBe(true);
    expect(login("hangar-debian login: [  100.608758] powernow_k8: Power state transitions not supported")).toBe(true);
    expect(login("login:")).toBe(true);
    expect(login("[  OK  ] Reached target login: no")).toBe(false);
    expect(login("Last login: Mon")).toBe(false);
    const marker = successMatcher("READY (1.0)");
    expect(marker("cloud-init: READY (1.0) now")).toBe(true);
    expect(marker("READY 1.0")).toBe(false);
  });

  it("ends on a kernel panic or a firmware with nothing to boot", () => {
    expect(fatalLine("[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs")).toMatch(/panicked/);
    expect(fatalLine("No bootable device.")).toMatch(/nothing to boot/);
    expect(fatalLine("[  OK  ] Started Journal Service.")).toBeNull();
  });
});
