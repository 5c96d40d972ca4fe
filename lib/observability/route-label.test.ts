import path from "node:path";
import { describe, expect, it } from "vitest";
import { routeLabel, routeSegmentsOf } from "./route-label";

describe("the route label", () => {
  const known = routeSegmentsOf(path.join(import.meta.dirname, "../../app"));

  it("keeps the static names of Hangar's routes and turns ids, hashes, numbers and slugs into :id", () => {
    expect(known.has("api")).toBe(true);
    expect(known.has("builds")).toBe(true);
    expect([...known].some((segment) => segment.startsWith("[") || segment.startsWith("("))).toBe(false);
    expect(routeLabel("/", known)).toBe("/");
    expect(routeLabel("/healthz", known)).toBe("/healthz");
    expect(routeLabel("/api/builds/3f2b8c1e-9a4d-4e7b-8c1f-0a2b3c4d5e6f/events", known)).toBe("/api/builds/:id/events");
    expect(routeLabel("/api/uploads/0123456789abcdef0123456789abcdef", known)).toBe("/api/uploads/:id");
    expect(routeLabel("/images/debian-12-base/versions/42", known)).toBe("/images/:id/versions/:id");
  });

  it("stays within a bounded set whatever paths clients make up", () => {
    const labels = new Set<string>();
    for (let index = 0; index < 500; index += 1) {
      labels.add(routeLabel(`/random-${index}/x${index}`, known));
      labels.add(routeLabel(`/_next/static/chunks/${index}.js`, known));
      labels.add(routeLabel(`/api/${"deep/".repeat(index % 20)}${index}`, known));
    }
    expect(labels.size).toBeLessThanOrEqual(1 + 1 + 9);
    expect(routeLabel("/a/b/c/d/e/f/g/h/i/j", known)).toBe("/:id/:id/:id/:id/:id/:id/:id/:id/…");
    expect(routeLabel("/_next/static/chunks/app.js", known)).toBe("/_next");
  });
});
