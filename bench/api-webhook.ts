// Webhook latency, on the real database, job queue and worker, to a real HTTP server on 127.0.0.1:
//   webhook_latency_p50_ms  an event queued right after its change committed → the signed POST
//                           received by the server (delivery row, queue job, worker pick-up, HTTP),
//                           one event at a time, so it is latency and not throughput.
import { createWebhookAction } from "../lib/actions/webhook-actions";
import { jobHandlers } from "../lib/jobs/handlers";
import { startWorker, type JobHandlers } from "../lib/jobs/queue";
import { queueWebhookEvent } from "../lib/webhooks/events";
import { startWebhookReceiver } from "../tests/webhook-receiver";
import { median, type BenchRow } from "./report";
import { openBenchWorld } from "./world";

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 50);
const TARGET_MS = 1000;

async function waitForCount(read: () => number, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (read() < count) {
    if (Date.now() > deadline) throw new Error(`webhook ${count} was not received within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export async function webhookRows(): Promise<BenchRow[]> {
  const world = await openBenchWorld("webhook");
  const receiver = await startWebhookReceiver();
  // Only deliveries run: nothing else is queued in this private database.
  const noop = async () => {};
  const handlers = {
    ...(Object.fromEntries(Object.keys(jobHandlers).map((name) => [name, noop])) as unknown as JobHandlers),
    "webhook.deliver": jobHandlers["webhook.deliver"],
  };
  const worker = await startWorker({ handlers, log: () => {} });
  try {
    const created = await createWebhookAction(world.viewer, {
      projectId: world.projectId,
      url: receiver.url,
      events: ["release.changed"],
      allowInternal: true,
    });
    if (!created.ok) throw new Error(created.message);
    const latencies: number[] = [];
    // One untimed event first: the queue client's connection and the worker's first poll.
    for (let index = 0; index <= EVENTS; index += 1) {
      const started = Date.now();
      await queueWebhookEvent({ type: "release.changed", projectId: world.projectId, object: { index } });
      await waitForCount(() => receiver.received.length, index + 1, 30_000);
      if (index > 0) latencies.push(receiver.received[index]!.receivedAt - started);
    }
    const p50 = median(latencies);
    return [
      {
        metric: "webhook_latency_p50_ms",
        value: p50,
        unit: "ms",
        anchor: TARGET_MS,
        ratio: p50 / TARGET_MS,
        target: `<= ${TARGET_MS} ms (p50 of ${EVENTS})`,
        pass: p50 <= TARGET_MS,
      },
    ];
  } finally {
    await worker.stop();
    await receiver.close();
    await world.close();
  }
}
