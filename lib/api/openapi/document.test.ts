// The document and the route files must agree: every /api/v1 route file's every method is described,
// and every described operation exists as a route file exporting that method.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { apiDocument } from "./document";

vi.mock("@/lib/auth/session", () => ({ getViewer: async () => null }));

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
const root = path.resolve(__dirname, "../../../app/api/v1");

async function routeFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? routeFiles(path.join(directory, entry.name))
        : entry.name === "route.ts"
          ? [path.join(directory, entry.name)]
          : [],
    ),
  );
  return nested.flat();
}

/** app/api/v1/images/[slug]/route.ts → /api/v1/images/{slug} */
function templateOf(file: string): string {
  const relative = path.relative(root, path.dirname(file)).split(path.sep).filter(Boolean);
  return ["/api/v1", ...relative.map((segment) => segment.replace(/^\[(.+)\]$/, "{$1}"))].join("/");
}

async function implementedOperations(): Promise<Set<string>> {
  const operations = new Set<string>();
  for (const file of await routeFiles(root)) {
    const routeModule = (await import(file)) as Record<string, unknown>;
    for (const method of METHODS)
      if (typeof routeModule[method] === "function") operations.add(`${method} ${templateOf(file)}`);
  }
  return operations;
}

function documentedOperations(): Set<string> {
  const operations = new Set<string>();
  for (const [template, item] of Object.entries(apiDocument().paths ?? {}))
    for (const method of METHODS)
      if ((item as Record<string, unknown>)[method.toLowerCase()]) operations.add(`${method} ${template}`);
  return operations;
}

describe("the OpenAPI document of /api/v1", () => {
  it("is OpenAPI 3.1 with the one error shape and a bearer scheme", () => {
    const document = apiDocument();
    expect(document.openapi).toBe("3.1.0");
    expect(document.components?.schemas?.Error).toBeDefined();
    expect(document.components?.securitySchemes?.bearerToken).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("describes every route file's every method, and nothing that has no route", async () => {
    const implemented = await implementedOperations();
    const documented = documentedOperations();
    expect(implemented.size).toBeGreaterThan(2);
    expect([...implemented].filter((operation) => !documented.has(operation)).sort()).toEqual([]);
    expect([...documented].filter((operation) => !implemented.has(operation)).sort()).toEqual([]);
  });

  it("gives every operation an id, a tag, a summary and its error responses", () => {
    const ids = new Set<string>();
    for (const [template, item] of Object.entries(apiDocument().paths ?? {}))
      for (const method of METHODS) {
        const operation = (item as Record<string, Record<string, unknown> | undefined>)[method.toLowerCase()];
        if (!operation) continue;
        const where = `${method} ${template}`;
        expect(operation.operationId, where).toEqual(expect.any(String));
        expect(ids.has(operation.operationId as string), `${where}: duplicate operationId`).toBe(false);
        ids.add(operation.operationId as string);
        expect(operation.summary, where).toEqual(expect.any(String));
        expect((operation.tags as string[] | undefined)?.length, where).toBeGreaterThan(0);
        const responses = operation.responses as Record<string, unknown>;
        if (operation.security === undefined) expect(Object.keys(responses), where).toContain("401");
      }
  });
});
