import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export async function hashFile(file: string): Promise<{ sha256: string; sha512: string; size: number }> {
  const sha256 = createHash("sha256");
  const sha512 = createHash("sha512");
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    sha256.update(chunk as Buffer);
    sha512.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: sha256.digest("hex"), sha512: sha512.digest("hex"), size };
}
