// A real Debian 12 that boots to a login prompt on its serial console (lib/content/debian-image.ts),
// for boot tests, content inspection and the demo. Building it takes a few minutes, so it is built
// once per machine and kept under the temp folder (cachedBootableDebian: the demo job shares it).
import { cachedBootableDebian, type CachedBootableDebian } from "@/lib/content/debian-image";
import { debianMirror } from "./debian-guest";

export type { CachedBootableDebian };

export function bootableDebian(): Promise<CachedBootableDebian> {
  return cachedBootableDebian({
    mirror: debianMirror(),
    log: (line) => {
      if (line.startsWith("[debian]")) console.log(line);
    },
  });
}
