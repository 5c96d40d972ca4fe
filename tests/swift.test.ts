// The Swift harness itself: it serves S3 on loopback, and stopping it leaves no process behind.
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { liveProcessesInGroup } from "./process-groups";
import { createTestBucket, startSwift, stopSwift, swiftClient } from "./swift";

describe("Swift test server", () => {
  it("starts on free loopback ports, serves S3, and stops every process of it", async () => {
    const server = await startSwift();
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.groups).toHaveLength(4);
      for (const group of server.groups) expect(liveProcessesInGroup(group).length).toBeGreaterThan(0);
      const bucket = await createTestBucket(server);
      const client = swiftClient(server);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: "hello", Body: "hello, swift" }));
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "hello", Range: "bytes=7-11" }));
      expect(await answer.Body!.transformToString()).toBe("swift");
    } finally {
      await stopSwift(server);
    }
    for (const group of server.groups) expect(liveProcessesInGroup(group)).toEqual([]);
    expect(existsSync(server.dir)).toBe(false);
  });
});
