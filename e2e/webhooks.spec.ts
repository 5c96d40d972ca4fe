import { expect, test } from "@playwright/test";
import { startWebhookReceiver, verifySignature, type WebhookReceiver } from "../tests/webhook-receiver";
import { signInWithPassword, uniqueName } from "./helpers";

let receiver: WebhookReceiver;

test.beforeAll(async () => {
  receiver = await startWebhookReceiver();
});

test.afterAll(async () => {
  await receiver?.close();
});

test("an admin adds a project webhook to a local receiver, sends a test event and sees it delivered", async ({
  page,
}) => {
  await signInWithPassword(page);
  await page.goto("/projects");
  const name = uniqueName("Hooks");
  await page.getByLabel("Project name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await page.getByRole("main").getByRole("link", { name: "Webhooks", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Webhooks of ${name}` })).toBeVisible();

  // A loopback receiver on a high port is refused unless an admin allows internal addresses for it.
  await page.getByLabel("Payload URL").fill(receiver.url);
  await page.getByLabel("Release changed").check();
  await page.getByRole("button", { name: "Add webhook" }).click();
  await expect(page.getByText(/Only ports 80 and 443 are allowed for webhooks/)).toBeVisible();
  await expect(page.getByRole("alert")).toContainText("Nothing was saved");

  await page.getByLabel(/Allow internal addresses/).check();
  await page.getByRole("button", { name: "Add webhook" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Webhook added." })).toBeVisible();
  const secret = (await page.getByLabel("Webhook secret").textContent())!.trim();
  expect(secret).toMatch(/^whsec_/);

  const card = page.getByRole("region", { name: receiver.url });
  await card.getByRole("button", { name: "Send test event" }).click();
  await expect(card.getByRole("status").filter({ hasText: "Test event sent." })).toBeVisible();
  const deliveries = card.getByRole("table", { name: `Recent deliveries to ${receiver.url}` });
  const row = deliveries.getByRole("row").filter({ hasText: "ping" });
  await expect(row).toContainText("succeeded", { timeout: 20_000 });
  await expect(row).toContainText("200");
  expect(receiver.received).toHaveLength(1);
  const [got] = receiver.received;
  expect(got!.json.type).toBe("ping");
  expect(verifySignature(secret, got!.body, got!.headers["x-hub-signature-256"])).toBe(true);

  await row.getByRole("button", { name: /^Redeliver ping/ }).click();
  await expect(deliveries.getByRole("row").filter({ hasText: "(redelivery)" })).toContainText("succeeded", {
    timeout: 20_000,
  });
  expect(receiver.received).toHaveLength(2);
});
