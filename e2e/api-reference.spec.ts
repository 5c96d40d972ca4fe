import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";

// The API reference needs no sign-in and no script: it is the OpenAPI document, rendered on the server.
test("the API reference lists every documented operation and is accessible", async ({ page, request }) => {
  const document = (await (await request.get("/api/v1/openapi.json")).json()) as {
    openapi: string;
    paths: Record<string, Record<string, { operationId: string; summary: string }>>;
  };
  expect(document.openapi).toBe("3.1.0");
  const operations = Object.values(document.paths).flatMap((item) => Object.values(item));
  expect(operations.length).toBeGreaterThan(30);

  await page.goto("/api");
  await expect(page.getByRole("heading", { level: 1, name: "API reference" })).toBeVisible();
  for (const operation of operations)
    await expect(page.locator(`section#${operation.operationId}`), operation.operationId).toHaveCount(1);
  await page
    .getByRole("navigation", { name: "API sections" })
    .getByRole("link", { name: /channel/i })
    .first()
    .click();
  await expect(page).toHaveURL(/#/);
  await expect(page.getByRole("heading", { level: 2, name: "Schemas" })).toBeVisible();
  await page.screenshot({ path: "reports/api-reference.png", fullPage: false });
  const results = await new AxeBuilder({ page }).analyze();
  expect(
    results.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((v) => v.id),
  ).toEqual([]);
});
