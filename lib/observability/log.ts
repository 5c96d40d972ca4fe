// The one logger: JSON lines (pino) for log collectors, pretty-printed when a person watches the
// terminal. Kept on globalThis so the custom server and Next's bundled copy of this module write
// through one pino instance (and one pretty-printing stream); lib/errors.ts finds it there too.
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import { env } from "@/lib/env";

const globalForLog = globalThis as unknown as { hangarLogger?: Logger };

export function logger(): Logger {
  globalForLog.hangarLogger ??= pino(
    { level: env().HANGAR_LOG_LEVEL, base: { pid: process.pid } },
    // pino-pretty in the same thread: a worker-thread transport would not load inside Next's bundle.
    process.stdout.isTTY ? pretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid" }) : undefined,
  );
  return globalForLog.hangarLogger;
}

/** A `(line) => void` for code that takes a plain log function (the worker, start-up steps). */
export function lineLogger(component: string): (line: string) => void {
  let child: Logger | undefined;
  return (line) => {
    // Made at the first line: the configuration it reads may not be valid yet when this is called.
    child ??= logger().child({ component });
    if (line) child.info(line);
  };
}
