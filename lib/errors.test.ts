import { describe, expect, it } from "vitest";
import { z } from "zod";
import { errorBody, errorResponse, fieldErrorsOf, HangarError, httpStatusOf, withRouteErrors } from "./errors";

describe("the error module", () => {
  it("gives each code one HTTP status", () => {
    expect(httpStatusOf("invalid")).toBe(400);
    expect(httpStatusOf("unauthenticated")).toBe(401);
    expect(httpStatusOf("forbidden")).toBe(403);
    expect(httpStatusOf("not_found")).toBe(404);
    expect(httpStatusOf("conflict")).toBe(409);
    expect(httpStatusOf("gone")).toBe(410);
    expect(httpStatusOf("too_large")).toBe(413);
    expect(httpStatusOf("unsupported_media_type")).toBe(415);
    expect(httpStatusOf("refused")).toBe(422);
    expect(httpStatusOf("internal")).toBe(500);
    expect(httpStatusOf("database_unavailable")).toBe(503);
  });

  it("writes one JSON error body, with fields only when there are some", () => {
    expect(errorBody("not_found", "No such thing.")).toEqual({
      error: { code: "not_found", message: "No such thing." },
    });
    expect(errorBody("invalid", "Bad.", { name: ["Too long."] })).toEqual({
      error: { code: "invalid", message: "Bad.", fields: { name: ["Too long."] } },
    });
  });

  it("answers a code with its status, body and headers", async () => {
    const response = errorResponse("gone", "It expired.", { headers: { "Tus-Resumable": "1.0.0" } });
    expect(response.status).toBe(410);
    expect(response.headers.get("tus-resumable")).toBe("1.0.0");
    expect(await response.json()).toEqual({ error: { code: "gone", message: "It expired." } });
  });

  it("turns a thrown HangarError into its answer and anything else into a 500 without internals", async () => {
    const refusing = withRouteErrors(async () => {
      throw new HangarError("forbidden", "Not yours.", { id: ["Not yours."] });
    });
    const refused = await refusing();
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      error: { code: "forbidden", message: "Not yours.", fields: { id: ["Not yours."] } },
    });

    const failing = withRouteErrors(
      async (_request: Request) => {
        throw new Error("connection string with a password");
      },
      { internalMessage: "Nothing was kept." },
    );
    const failed = await failing(new Request("http://hangar.test/"));
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: { code: "internal", message: "Nothing was kept." } });
    // The request id the HTTP server put on the request is in the body, for the person to quote.
    const quoted = await failing(new Request("http://hangar.test/", { headers: { "X-Request-Id": "req-42" } }));
    expect(await quoted.json()).toEqual({
      error: { code: "internal", message: "Nothing was kept.", requestId: "req-42" },
    });

    const passing = withRouteErrors(async () => new Response("ok"));
    expect(await (await passing()).text()).toBe("ok");
  });

  it("collects zod messages by field path", () => {
    const parsed = z
      .object({ name: z.string().min(2, "Too short."), tags: z.array(z.string().max(1, "Too long.")) })
      .safeParse({ name: "a", tags: ["ok", "x"] });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(fieldErrorsOf(parsed.error)).toEqual({ name: ["Too short."], "tags.0": ["Too long."] });
    const whole = z.string({ message: "Text, please." }).safeParse(1);
    if (!whole.success) expect(fieldErrorsOf(whole.error)).toEqual({ _: ["Text, please."] });
  });
});
