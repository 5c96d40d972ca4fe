import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";

// The demo catalog's real Debian, end to end: the fresh app builds (or takes from the machine's
// cache) a bootable Debian 12, ingests it, inspects it and boot-tests it, then builds GNU hello into
// debian-12-minimal-hello, which is inspected and boot-tested too and waits for review. This spec
// runs first and alone (the `content` project in playwright.config.ts), so the background pipeline
// does not slow the other specs, and it waits for that pipeline with a generous limit.
const PIPELINE_MS = 20 * 60_000;

/** Polls /reviews until the hello build is there with its package diff and a passing boot test. */
async function waitForHelloReview(reviewer: Page) {
  const item = reviewer.getByRole("listitem", { name: /^debian-12-minimal-hello build-\d+$/ });
  await expect(async () => {
    await reviewer.goto("/reviews");
    await expect(item).toHaveCount(1, { timeout: 1000 });
    await expect(item).toContainText("1 added, 0 removed", { timeout: 1000 });
    await expect(item).toContainText(/Boot test\s*Passed/, { timeout: 1000 });
  }).toPass({ timeout: PIPELINE_MS, intervals: [10_000] });
  return item;
}

test("the demo Debian's hello build is reviewed with its package diff and boot test, then found by package and exported as an SBOM", async ({
  page,
  browser,
}) => {
  test.setTimeout(PIPELINE_MS + 5 * 60_000);
  const started = Date.now();

  // The base version's page follows its progress live and refreshes itself once it is ready.
  await signInWithPassword(page);
  await page.goto("/images/debian-12-minimal/versions/12");
  const progress = page.getByRole("progressbar", { name: "Version progress" });
  if (await progress.isVisible()) {
    await expect(page.getByText("Being built from Debian's packages")).toBeVisible();
    await expect(progress).toBeHidden({ timeout: PIPELINE_MS });
  } else {
    test.info().annotations.push({ type: "note", description: "the base was ready before the page was opened" });
  }
  // No reload: the page refreshed itself.
  await expect(page.getByRole("heading", { name: "Contents", exact: true })).toBeVisible();
  await expect(page.getByText("Contents are read once the version’s bytes are ready.")).toHaveCount(0);
  console.log(`debian-12-minimal 12 ready after ${Math.round((Date.now() - started) / 1000)} s`);

  // (a) The admin's demo build may only be approved by another admin (four-eyes): the SSO reviewer.
  const reviewerContext = await browser.newContext();
  const reviewer = await reviewerContext.newPage();
  await signInWithOidc(reviewer, "reviewer");
  const item = await waitForHelloReview(reviewer);
  console.log(`hello build reviewable after ${Math.round((Date.now() - started) / 1000)} s`);
  const label = (await item.getAttribute("aria-label"))!;
  const version = label.replace("debian-12-minimal-hello ", "");
  await expect(item).toContainText("debian-12-minimal 12");
  await item.getByText(/^Package changes since the parent debian-12-minimal 12/).click();
  const added = item.getByRole("table", { name: "Packages added (1)" });
  await expect(added.getByRole("link", { name: "hello", exact: true })).toBeVisible();

  await item.getByRole("link", { name: `Debian 12 with GNU hello ${version}` }).click();
  await expect(reviewer).toHaveURL(`/images/debian-12-minimal-hello/versions/${version}`);
  const contents = reviewer.getByRole("region", { name: "Contents", exact: true });
  // libguestfs's words: distribution "debian", version "12.<point release>".
  const os = contents.getByRole("region", { name: "Operating system" });
  await expect(os).toContainText(/Distribution\s*debian/);
  await expect(os).toContainText(/Version\s*12\.\d+/);
  const packages = contents.getByRole("table", { name: `Installed packages of ${label}` });
  await expect(packages.getByRole("link", { name: "hello", exact: true })).toBeVisible();

  await reviewer.goto("/reviews");
  await reviewer.getByRole("button", { name: `Approve ${label}` }).click();
  await expect(reviewer.getByRole("list", { name: "Your recent decisions" })).toContainText(`${label} approved`);
  await reviewerContext.close();

  // (b) A developer finds it by the package it contains, and downloads its CycloneDX SBOM.
  const developerContext = await browser.newContext({ acceptDownloads: true });
  const developer = await developerContext.newPage();
  await signInWithOidc(developer, uniqueName("dev"));
  await developer.goto("/");
  await developer.getByLabel("Contains package").fill("hello");
  await developer.getByLabel("Contains package").press("Enter");
  await expect(developer).toHaveURL(/[?&]contains=hello(&|$)/);
  await expect(developer.getByRole("link", { name: "Debian 12 with GNU hello" })).toBeVisible();
  await expect(developer.getByRole("link", { name: "Debian 12 base" })).toHaveCount(0);
  await expect(developer.getByRole("link", { name: "Debian 12 minimal (real)" })).toHaveCount(0);

  await developer.goto(`/images/debian-12-minimal-hello/versions/${version}`);
  const download = developer.waitForEvent("download");
  await developer.getByRole("link", { name: "CycloneDX" }).click();
  const file = await (await download).path();
  const bom = JSON.parse(await readFile(file, "utf8")) as {
    bomFormat: string;
    components: { name: string; purl?: string }[];
  };
  expect(bom.bomFormat).toBe("CycloneDX");
  const hello = bom.components.find((component) => component.name === "hello");
  expect(hello?.purl).toMatch(/^pkg:deb\/debian\/hello@/);
  await developerContext.close();
});
