// Placeholder until the engine lands (issue 13): the job kind exists so the queue and handlers compile.
export async function runBootTest(data: { bootTestId: string }, { signal }: { signal: AbortSignal }): Promise<void> {
  void data;
  void signal;
  throw new Error("not built yet");
}
