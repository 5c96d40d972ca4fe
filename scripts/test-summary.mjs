// Prints one closing line for the whole suite from the runners' JSON reports.
import { readFileSync } from "node:fs";

const read = (file) => JSON.parse(readFileSync(file, "utf8"));
const vitest = read("reports/vitest.json");
const playwright = read("reports/playwright.json").stats;
const passed = vitest.numPassedTests + playwright.expected + playwright.flaky;
const failed = vitest.numFailedTests + playwright.unexpected;
const skipped = vitest.numPendingTests + vitest.numTodoTests + playwright.skipped;
console.log(
  `Vitest: ${vitest.numPassedTests} passed, ${vitest.numFailedTests} failed; Playwright: ${playwright.expected + playwright.flaky} passed, ${playwright.unexpected} failed`,
);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
// The runners' own exit codes are not trusted alone: any failed test fails the suite.
if (failed > 0 || passed === 0) process.exitCode = 1;
