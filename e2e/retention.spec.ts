import { expect, test } from "@playwright/test";
import { createImageOnImportPage, signInWithPassword, uniqueName } from "./helpers";

// An admin previews a retention rule on the demo Debian image (nothing changes), saves it, and runs
// a rule on an image of their own.
test("retention: preview lists each change and why, a saved rule stays, run now reports the run", async ({ page }) => {
  await signInWithPassword(page);
  await page.goto("/images/debian-12-base");
  const section = page.getByRole("region", { name: "Retention" });
  await expect(section).toContainText("This rule has not run yet.");
  await section.getByLabel("Keep the newest approved versions").fill("1");
  await section.getByLabel("Deprecate approved versions after (days)").fill("30");
  await section.getByRole("button", { name: "Preview" }).click();
  await expect(section.getByRole("status")).toHaveText("Preview: 2 change(s) listed below; nothing was changed.");
  const table = section.getByRole("table", { name: "What this rule would change now" });
  await expect(table.getByRole("row")).toHaveCount(3);
  await expect(table.getByRole("row", { name: /12\.5\.0 Approved Deprecate Approved 120 days ago/ })).toBeVisible();
  await expect(table.getByRole("row", { name: /12\.6\.0 Approved Deprecate Approved 60 days ago/ })).toBeVisible();

  await section.getByRole("button", { name: "Save" }).click();
  await expect(section.getByRole("status")).toHaveText("Saved; the rule is off (it runs only with Run now).");
  await page.reload();
  await expect(
    page.getByRole("region", { name: "Retention" }).getByLabel("Keep the newest approved versions"),
  ).toHaveValue("1");
  // The preview changed nothing.
  await expect(page.getByRole("table", { name: "Versions of Debian 12 base" })).not.toContainText(/deprecated/i);

  await page.goto("/import");
  const name = uniqueName("ret");
  await createImageOnImportPage(page, name);
  await page.goto(`/images/${name}`);
  const own = page.getByRole("region", { name: "Retention" });
  await own.getByLabel("Run this rule daily").check();
  await own.getByLabel("Deprecate approved versions after (days)").fill("7");
  await own.getByRole("button", { name: "Save" }).click();
  await expect(own.getByRole("status")).toHaveText("Saved; the rule runs daily.");
  page.once("dialog", (dialog) => void dialog.accept());
  await own.getByRole("button", { name: "Run now" }).click();
  await expect(own.getByRole("status")).toHaveText(
    "Ran the saved rule: 0 deprecated, 0 deleted, 0 kept because something depends on it.",
  );
  await expect(own).toContainText(/Last run .*: 0 deprecated, 0 deleted\./);
});
