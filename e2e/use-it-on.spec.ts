// The version page's "Use it on…": a tab per platform, moved through with the arrow keys, each with
// ready-to-paste text carrying this version's checksum.
import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { signInWithPassword } from "./helpers";

test("an approved version offers a snippet per platform, keyboard-driven and axe-clean", async ({ page }) => {
  await signInWithPassword(page);
  await page.goto("/images/debian-12-base");
  // The newest approved version of the demo's public image.
  await page.getByRole("link", { name: "12.6.0", exact: true }).first().click();
  const tabs = page.getByRole("tablist");
  await expect(page.getByRole("heading", { name: "Use it on…" })).toBeVisible();
  const first = tabs.getByRole("tab").first();
  await first.focus();
  await expect(first).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("ArrowRight");
  const second = tabs.getByRole("tab").nth(1);
  await expect(second).toBeFocused();
  await expect(second).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("tabpanel")).toContainText("pvesh create");
  await page.keyboard.press("End");
  await expect(page.getByRole("tabpanel")).toContainText("sha256sum -c");
  const results = await new AxeBuilder({ page }).include("main").analyze();
  expect(
    results.violations.filter((violation) => ["serious", "critical"].includes(violation.impact ?? "")).map((v) => v.id),
  ).toEqual([]);
  await page.getByRole("heading", { name: "Use it on…" }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: "reports/use-it-on.png", fullPage: false });
});
