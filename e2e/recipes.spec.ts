import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { signInWithPassword, uniqueName } from "./helpers";

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBH5uVSaX1zjmR6c6Ff2mR1mA5hVQ4Hk3ucOm5ddCx8Z deploy@ci";

async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter(
    (violation) => violation.impact === "serious" || violation.impact === "critical",
  );
  expect(
    serious.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`),
  ).toEqual([]);
}

async function addStep(page: Page, label: string) {
  await page.getByLabel("Add a step").selectOption({ label });
  await page.getByRole("button", { name: "Add step" }).click();
}

test("a recipe is written in the editor, reordered, built with a live log, and its output waits for review", async ({
  page,
}) => {
  test.setTimeout(420_000);
  const name = uniqueName("web-base");
  await signInWithPassword(page);
  await page.goto("/images/debian-12-base/versions/12.7.0");
  await page.getByRole("link", { name: "Customize" }).click();
  await expect(page).toHaveURL(/\/recipes\/new\?base=debian-12-base&version=12.7.0/);
  await page.getByLabel("Name", { exact: true }).fill(name);

  await addStep(page, "Write a file");
  await page.getByLabel("Path in the guest").fill("etc/motd");
  await expect(page.getByText("Use an absolute path in the guest, starting with /.")).toBeVisible(); // as you type
  await page.getByLabel("Path in the guest").fill("/etc/motd");
  await expect(page.getByText("Use an absolute path in the guest, starting with /.")).toHaveCount(0);
  await page.getByLabel("Content").fill(`Welcome to ${name}\n`); // unique, so no earlier build has this fingerprint
  await addStep(page, "Inject an SSH key");
  await page.getByLabel("Public key").fill(key);
  await addStep(page, "Run a command");
  await page.getByLabel(/^Script/).fill("echo hello-from-the-guest\nmkdir -p /srv/www\n");

  // Keyboard reorder: focus the last step and move it up with Alt+↑.
  const steps = page.getByRole("list", { name: "Steps" }).getByRole("listitem");
  await steps.nth(2).focus();
  await page.keyboard.press("Alt+ArrowUp");
  await expect(steps.nth(1)).toHaveAccessibleName("Step 2 of 3: Run a command");
  await expect(page.getByText(/Moved step “Run a command” to position 2 of 3/)).toBeAttached();
  await page.getByRole("button", { name: "Move step 3 up" }).click();
  await expect(steps.nth(1)).toHaveAccessibleName("Step 2 of 3: Inject an SSH key");
  await expect(page.getByLabel("Command preview")).toContainText(`--write '/etc/motd:Welcome to ${name}`);
  await expect(page.getByLabel("Command preview")).toContainText("--ssh-inject");
  await expectAccessible(page);

  await page.getByRole("button", { name: "Create recipe" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved as revision 1." })).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();

  // YAML import explains problems by line.
  await page.getByText("YAML: export or import").click();
  await expect(page.getByLabel("Recipe YAML")).toContainText("type: ssh-key");
  await page
    .getByLabel("Paste YAML to replace the form")
    .fill(
      `name: x\nbase:\n  image: debian-12-base\n  version: 12.7.0\nsteps:\n  - type: mkdir\n    path: relative\noutput:\n  image: debian-12-base\n  format: qcow2\n`,
    );
  await page.getByRole("button", { name: "Load YAML" }).click();
  await expect(page.getByRole("alert", { name: "YAML problems" })).toContainText("Line 7:");

  await page.getByRole("button", { name: "Build revision 1" }).click();
  await expect(page).toHaveURL(/\/builds\/[0-9a-f-]{36}$/);
  const log = page.getByRole("log", { name: "Build log" });
  await expect(log).toContainText("Running virt-customize with 3 steps", { timeout: 60_000 });
  await expect(page.getByRole("status", { name: "Build status: succeeded" })).toBeVisible({ timeout: 300_000 });
  await expect(log).toContainText("Writing: /etc/motd");
  await expect(log).toContainText("SSH key inject: root");
  await expect(page.getByRole("list", { name: "Steps" })).toContainText("(done)");
  // This machine has no /dev/kvm: the worker's probe chose TCG and the page says so, with the limit.
  const runsOn = page.getByRole("group", { name: "How this build runs" });
  await expect(runsOn).toContainText("TCG (software emulation)");
  await expect(runsOn).toContainText("/dev/kvm does not exist");
  await expect(runsOn).toContainText("30 minutes (HANGAR_BUILD_TIMEOUT)");
  await expectAccessible(page);

  await page.getByRole("link", { name: /debian-12-base build-\d+/ }).click();
  await expect(page.getByText("Pending review")).toBeVisible();
  // "Built from" in the facts (the lineage graph links the same version too).
  await expect(page.getByRole("definition").getByRole("link", { name: "debian-12-base 12.7.0" })).toBeVisible();

  // Building the same fingerprint again offers the existing output instead.
  await page.getByRole("link", { name: /recipe revision 1/ }).click();
  await page.getByRole("button", { name: "Build revision 1" }).click();
  await expect(page.getByRole("status").filter({ hasText: "This exact build exists already" })).toBeVisible();
});

test("a recipe file over the limit is refused with the limit in words, and a signed-out caller is refused", async ({
  page,
}) => {
  await signInWithPassword(page);
  await page.goto("/recipes/new");
  const projectId = await page.getByLabel("Project").inputValue();
  const tooLarge = await page.request.post(`/api/recipe-files?projectId=${projectId}&filename=big.bin`, {
    data: Buffer.alloc(16 * 1024 * 1024 + 1),
  });
  expect(tooLarge.status()).toBe(413);
  expect((await tooLarge.json()).error.message).toMatch(/at most 16 MiB/);
  const attached = await page.request.post(`/api/recipe-files?projectId=${projectId}&filename=hello.txt`, {
    data: Buffer.from("hello\n"),
  });
  expect(attached.status()).toBe(201);
  expect((await attached.json()).sha256).toBe("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  const signedOut = await page.context().browser()!.newContext({ baseURL: page.url() });
  const anonymous = await signedOut.request.post(`/api/recipe-files?projectId=${projectId}`, {
    data: Buffer.from("x"),
  });
  expect(anonymous.status()).toBe(401);
  await signedOut.close();
});

test("the editor shows the bound on growing the disk as you type, and refuses to save above it", async ({ page }) => {
  test.setTimeout(180_000);
  await signInWithPassword(page);
  await page.goto("/recipes/new");
  const grow = page.getByLabel("Grow the disk to (optional)");
  await expect(page.getByText(/Like 20G, at most 256 GiB; the build must also fit the project's quota/)).toBeVisible();
  await grow.fill("300G");
  const bound =
    "Grow the disk to at most 256 GiB: that is this Hangar's limit (HANGAR_MAX_GROW_SIZE, set by an admin).";
  await expect(page.getByText(bound, { exact: true })).toBeVisible(); // as you type
  await expect(grow).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Name", { exact: true }).fill(uniqueName("too-big"));
  await page.getByRole("button", { name: "Create recipe" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "The output can't be grown like that" })).toBeVisible();
  await expect(page).toHaveURL(/\/recipes\/new/);
  await grow.fill("20G");
  await expect(page.getByText(bound, { exact: true })).toHaveCount(0);
});
