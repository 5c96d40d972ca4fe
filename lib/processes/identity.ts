// Which registered process this is (lib/processes/registry.ts), for the work that records its
// owner. Kept apart from the registry so modules that only ask (temp files) load no database code.
const globalForProcess = globalThis as unknown as { hangarProcessId?: string | null };

/** This process's id in the registry, or null outside it (the CLI, scripts, tests that don't register). */
export function currentProcessId(): string | null {
  return globalForProcess.hangarProcessId ?? null;
}

export function setCurrentProcessId(id: string | null): void {
  globalForProcess.hangarProcessId = id;
}
