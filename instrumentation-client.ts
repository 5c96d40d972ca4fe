// Runs in the browser before the app becomes interactive. Zod compiles object schemas with
// `new Function` when it may, and probes whether it may by calling it: under Hangar's
// Content-Security-Policy (no 'unsafe-eval') that probe is refused and reported as a violation,
// though Zod then validates the same way without it. Jitless skips the probe.
import { z } from "zod";

z.config({ jitless: true });
