// Prints one closing line for the whole suite from the runners' JSON reports.
import { existsSync, readFileSync } from "node:fs";

const read = (file) => JSON.parse(readFileSync(file, "utf8"));
const vitest = read("reports/vitest.json");
const local = read("reports/playwright.json").stats;
// The blob specs' second run, on a bucket (scripts/test.sh); missing means it did not report at all.
const s3 = existsSync("reports/playwright-s3.json")
  ? read("reports/playwright-s3.json").stats
  : { expected: 0, flaky: 0, unexpected: 1, skipped: 0 };
const playwright = Object.fromEntries(
  ["expected", "flaky", "unexpected", "skipped"].map((key) => [key, local[key] + s3[key]]),
);
const passed = vitest.numPassedTests + playwright.expected + playwright.flaky;
const failed = vitest.numFailedTests + playwright.unexpected;
const skipped = vitest.numPendingTests + vitest.numTodoTests + playwright.skipped;
console.log(
  `Vitest: ${vitest.numPassedTests} passed, ${vitest.numFailedTests} failed; Playwright: ${playwright.expected + playwright.flaky} passed, ${playwright.unexpected} failed (${s3.expected + s3.flaky} passed, ${s3.unexpected} failed of them on s3)`,
);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
// The runners' own exit codes are not trusted alone: any failed test fails the suite.
if (failed > 0 || passed === 0) process.exitCode = 1;
