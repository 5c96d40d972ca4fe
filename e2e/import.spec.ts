import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { buildTinyGuest } from "../lib/images/tiny-guest";
import { createImageOnImportPage, signInWithPassword, uniqueName } from "./helpers";

const run = promisify(execFile);
let work: string;
let guestRaw: string;
let hostile: string;

test.beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "hangar-e2e-import-"));
  const guest = await buildTinyGuest({ dir: work, name: uniqueName("e2e-upload"), sizeMiB: 8, formats: ["raw"] });
  guestRaw = guest.raw;
  hostile = path.join(work, "backed.qcow2");
  await run("qemu-img", ["create", "-f", "qcow2", "-F", "raw", "-b", "/etc/hostname", hostile, "1M"]);
});

test("an upload interrupted by a reload resumes where it stopped, ends ready, and downloads byte for byte", async ({
  page,
}) => {
  const name = uniqueName("upload");
  await signInWithPassword(page);
  await page.goto("/import");
  await createImageOnImportPage(page, name);

  // Slow the upload down so there is a "half-way" to interrupt.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 1024 * 1024,
  });

  await page.getByLabel("Disk image file").setInputFiles(guestRaw);
  await page.getByLabel("Version", { exact: true }).fill("1.0.0");
  await page.getByRole("button", { name: "Start upload" }).click();
  const bar = page.getByRole("progressbar", { name: /Uploading/ });
  await expect(bar).toBeVisible();
  await expect
    .poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 20_000 })
    .toBeGreaterThan(20);

  await page.reload();
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  await page.getByLabel("Disk image file").setInputFiles(guestRaw);
  await expect(page.getByText(/You started uploading this file before/)).toBeVisible();
  await page.getByRole("button", { name: "Resume upload" }).click();
  await expect(page.getByRole("status").filter({ hasText: /Upload complete/ })).toBeVisible({ timeout: 30_000 });

  await page.goto(`/images/${name}/versions/1.0.0`);
  await expect(page.getByText("Safe: self-contained, format confirmed by qemu-img")).toBeVisible();
  const expected = createHash("sha256")
    .update(await readFile(guestRaw))
    .digest("hex");
  await expect(page.getByText(expected).first()).toBeVisible();

  const href = await page.getByRole("link", { name: /^Download raw/ }).getAttribute("href");
  const response = await page.request.get(href!);
  expect(response.status()).toBe(200);
  expect(response.headers()["etag"]).toBe(`"${expected}"`);
  expect(
    createHash("sha256")
      .update(await response.body())
      .digest("hex"),
  ).toBe(expected);
  const ranged = await page.request.get(href!, { headers: { Range: "bytes=1024-2047" } });
  expect(ranged.status()).toBe(206);
  expect((await ranged.body()).length).toBe(1024);
});

test("a hostile file is refused with a reason a person can act on", async ({ page }) => {
  const name = uniqueName("hostile");
  await signInWithPassword(page);
  await page.goto("/import");
  await createImageOnImportPage(page, name);
  await page.getByLabel("Disk image file").setInputFiles(hostile);
  await page.getByRole("button", { name: "Start upload" }).click();
  await expect(page.getByRole("alert")).toContainText(/backing file/i, { timeout: 30_000 });
  await page.goto(`/images/${name}`);
  await expect(page.getByText(/backing file/i).first()).toBeVisible();
});
