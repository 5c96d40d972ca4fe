import { createHash } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
// The spec reads and completes checksum state the way the background hasher would; it never ships.
// eslint-disable-next-line @typescript-eslint/no-restricted-imports
import pg from "pg";
import { runningEmbeddedPostgres } from "../db/embedded";
import { APP_ORIGIN, E2E_DATA_DIR } from "./env";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";

// The demo's public image in the demo project "platform", whose owner is the e2e admin.
const IMAGE = "debian-12-base";
const PROJECT = "platform";

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => violation.id);
}

async function withDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const running = await runningEmbeddedPostgres(E2E_DATA_DIR);
  if (!running) throw new Error(`No embedded PostgreSQL is running in ${E2E_DATA_DIR}.`);
  const client = new pg.Client({ connectionString: running.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The image's newest approved version and whether its blob has all three checksums a feed needs. */
async function newestApproved() {
  return withDatabase(async (client) => {
    const { rows } = await client.query<{ id: string; version: string; sha256: string; complete: boolean }>(
      `select v.id, v.version, v.sha256, (b.sha512 is not null and b.md5 is not null) as complete
       from images i join image_versions v on v.image_id = i.id join blobs b on b.sha256 = v.sha256
       where i.slug = $1 and v.release_status = 'approved' and v.data_status = 'ready'
       order by v.created_at desc, v.id desc limit 1`,
      [IMAGE],
    );
    return rows[0]!;
  });
}

/** Hashes the version's real bytes and stores the missing sha512 and md5, as the background hasher does. */
async function completeChecksums(page: Page, version: { id: string; sha256: string }) {
  const download = await page.request.get(`/api/versions/${version.id}/download`);
  expect(download.status()).toBe(200);
  const bytes = await download.body();
  expect(createHash("sha256").update(bytes).digest("hex")).toBe(version.sha256);
  await withDatabase((client) =>
    client.query("update blobs set sha512 = coalesce(sha512, $2), md5 = coalesce(md5, $3) where sha256 = $1", [
      version.sha256,
      createHash("sha512").update(bytes).digest("hex"),
      createHash("md5").update(bytes).digest("hex"),
    ]),
  );
}

const lookup = (base: string) => fetch(`${base}channels/${IMAGE}/latest.json`);

async function savePublishing(page: Page, { published }: { published: boolean }) {
  const form = page.getByRole("form", { name: "Publishing to platforms" });
  await form.getByRole("checkbox", { name: "Published to platforms" }).setChecked(published);
  await form.getByRole("button", { name: "Save publishing" }).click();
  await expect(form.getByRole("status")).toHaveText(
    published ? "Saved: published to platforms on latest." : "Saved: not published to platforms.",
  );
}

test.describe.serial("feeds", () => {
  test("an owner publishes an image with a template, makes a project feed, reads it, and revokes it", async ({
    page,
  }) => {
    test.setTimeout(180_000);
    await signInWithPassword(page);
    await page.goto(`/images/${IMAGE}`);
    const section = page.getByRole("region", { name: "Platforms" });
    await expect(section).toBeVisible();
    const form = section.getByRole("form", { name: "Publishing to platforms" });
    await form.getByRole("checkbox", { name: "Published to platforms" }).check();
    await expect(
      form.getByRole("group", { name: "Channels offered" }).getByRole("checkbox", { name: "latest" }),
    ).toBeChecked();
    await form.getByLabel("vCPUs").fill("2");
    await form.getByLabel("Memory (MiB)").fill("64");
    await form.getByLabel("Firmware").selectOption({ label: "UEFI" });
    await form.getByLabel("Root password").selectOption({ label: "Random, set at first boot" });
    await form.getByRole("button", { name: "Save publishing" }).click();
    // Refused next to the field, and nothing saved.
    await expect(form.getByLabel("Memory (MiB)")).toHaveAttribute("aria-invalid", "true");
    await expect(form.getByText("Give the VM at least 128 MiB of memory.")).toBeVisible();
    await expect(form.getByRole("alert")).toHaveText(/fix the fields marked in red/);
    await section.screenshot({ path: "reports/feeds-image-platforms-refused.png" });
    await form.getByLabel("Memory (MiB)").fill("2048");
    await form.getByRole("button", { name: "Save publishing" }).click();
    await expect(form.getByRole("status")).toHaveText("Saved: published to platforms on latest.");
    await page.reload();
    await expect(form.getByLabel("Memory (MiB)")).toHaveValue("2048");
    await expect(form.getByLabel("Firmware")).toHaveValue("uefi");
    expect(await seriousViolations(page)).toEqual([]);
    await section.screenshot({ path: "reports/feeds-image-platforms.png" });

    // To the project's feeds through its page, by keyboard.
    await page.goto(`/projects/${PROJECT}`);
    await page.getByRole("main").getByRole("link", { name: "Feeds", exact: true }).focus();
    await page.keyboard.press("Enter");
    await expect(page.getByRole("heading", { level: 1, name: /^Feeds of / })).toBeVisible();
    const name = uniqueName("opennebula");
    await page.getByLabel("Feed name").fill(name);
    await page.getByLabel("Feed name").press("Enter");
    await expect(page.getByRole("status").filter({ hasText: `Feed “${name}” created.` })).toBeVisible();
    await expect(page.getByText("you won’t see it again")).toBeVisible();
    const url = await page.getByLabel("Feed URL").inputValue();
    expect(url).toMatch(new RegExp(`^${APP_ORIGIN}/feeds/hgf_[A-Za-z0-9_-]{43}/$`));
    await expect(page.getByText(`${url}opennebula/`, { exact: true })).toBeVisible();
    await expect(page.getByText(`${url}streams/v1/index.json`, { exact: true })).toBeVisible();
    await expect(page.getByText(`${url}channels/<image>/<channel>.json`, { exact: true })).toBeVisible();
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: APP_ORIGIN });
    await page.getByRole("button", { name: "Copy" }).click();
    await expect(page.getByText("Copied to the clipboard.")).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: "reports/feeds-project-created.png", fullPage: true });

    // The feed offers the newest approved version only once its three checksums are known.
    const newest = await newestApproved();
    if (!newest.complete) {
      test.info().annotations.push({ type: "checksums", description: `${newest.version} had no md5/sha512 yet` });
      expect((await lookup(url)).status).toBe(404);
      await completeChecksums(page, newest);
    }
    const answered = await lookup(url);
    expect(answered.status).toBe(200);
    const body = await answered.json();
    expect(body).toMatchObject({ channel: "latest", version: { version: newest.version, sha256: newest.sha256 } });
    expect(body.download.url.startsWith(url)).toBe(true);

    // Gone after a reload: the list shows the prefix and the use, never the URL.
    await page.reload();
    await expect(page.getByLabel("Feed URL")).toHaveCount(0);
    expect(await page.content()).not.toContain(url);
    const prefix = url.split("/")[4]!.slice(0, 12);
    const row = page.getByRole("table", { name: "Project feeds" }).getByRole("row").filter({ hasText: name });
    await expect(row).toContainText(`/feeds/${prefix}…`);
    await expect(row).toContainText(`project ${PROJECT}`);
    await expect(row).toContainText("by admin@hangar.local");
    await expect(row).toContainText(/from \S+/);
    await expect(row).toContainText("active");

    page.once("dialog", (dialog) => dialog.accept());
    await row.getByRole("button", { name: `Revoke ${name} (/feeds/${prefix}…)` }).click();
    await expect(page.getByRole("status").filter({ hasText: `Feed “${name}” revoked.` })).toBeVisible();
    await expect(row).toContainText("revoked");
    await expect(row.getByRole("button", { name: /^Revoke/ })).toHaveCount(0);
    expect((await lookup(url)).status).toBe(404);
    await page.screenshot({ path: "reports/feeds-project-revoked.png", fullPage: true });
  });

  test("an admin turns the public feed on and off; everyone else sees only the summary", async ({ page, browser }) => {
    test.setTimeout(120_000);
    await signInWithPassword(page);
    await page.getByRole("link", { name: "Feeds", exact: true }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Feeds" })).toBeVisible();
    const toggle = page.getByRole("switch", { name: "Public feed" });
    const publicBase = `${APP_ORIGIN}/feeds/public/`;
    if (await toggle.isChecked()) {
      await toggle.uncheck();
      await expect(page.getByRole("status").filter({ hasText: "The public feed is off" })).toBeVisible();
    }
    expect((await lookup(publicBase)).status).toBe(404);
    await toggle.focus();
    await page.keyboard.press("Space");
    await expect(page.getByRole("status").filter({ hasText: "The public feed is on." })).toBeVisible();
    await expect(toggle).toBeChecked();
    await expect(page.getByLabel("Feed URL")).toHaveValue(publicBase);
    // debian-12-base is public and published (the test before): the anonymous feed offers it.
    expect((await lookup(publicBase)).status).toBe(200);
    const row = page.getByRole("table", { name: "All feeds" }).getByRole("row").filter({ hasText: "Public images" });
    await expect(row.first()).toContainText("public images");
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: "reports/feeds-admin-public-on.png", fullPage: true });

    // Someone who only reads the image sees one line, not the form.
    const reader = await browser.newContext();
    const readerPage = await reader.newPage();
    await signInWithOidc(readerPage, uniqueName("reader"));
    await readerPage.goto(`/images/${IMAGE}`);
    await expect(readerPage.getByText("Published to platforms on latest.")).toBeVisible();
    await expect(readerPage.getByRole("region", { name: "Platforms" })).toHaveCount(0);
    await expect(readerPage.getByRole("button", { name: "Save publishing" })).toHaveCount(0);
    await readerPage.getByRole("complementary", { name: "About this image" }).screenshot({
      path: "reports/feeds-image-reader-summary.png",
    });
    await reader.close();

    await toggle.uncheck();
    await expect(page.getByRole("status").filter({ hasText: "The public feed is off" })).toBeVisible();
    await expect(page.getByLabel("Feed URL")).toHaveCount(0);
    expect((await lookup(publicBase)).status).toBe(404);

    // Leave the demo as it was.
    await page.goto(`/images/${IMAGE}`);
    await savePublishing(page, { published: false });
  });
});
