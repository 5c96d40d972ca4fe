// The CLI's one seam to the server: which Hangar and which token (flags, then HANGAR_URL /
// HANGAR_TOKEN, then the config file), JSON requests to /api/v1, and the API's error shape turned
// into a CliError that says what the server said.
import http from "node:http";
import https from "node:https";
import { readConfig, type Environment } from "./config";
import { CliError } from "./errors";

export interface Globals {
  url?: string;
  token?: string;
  json: boolean;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  environment: Environment;
  stderrIsTty: boolean;
  stdinIsTty: boolean;
}

export interface Connection {
  url: string;
  token: string;
}

export function normalizeUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new CliError("usage", `“${raw}” is not a URL; give the Hangar address, such as https://hangar.example.org.`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new CliError("usage", `“${raw}” is not an http(s) address.`);
  return parsed.origin + parsed.pathname.replace(/\/+$/, "");
}

/** The server and token to use; the config file is read only when a flag or variable leaves one open. */
export async function connectionOf(globals: Globals, io: Io): Promise<Connection> {
  let url = globals.url ?? io.environment.HANGAR_URL?.trim() ?? undefined;
  let token = globals.token ?? io.environment.HANGAR_TOKEN?.trim() ?? undefined;
  if (!url || !token) {
    const stored = await readConfig(io.environment);
    url ||= stored.url;
    token ||= stored.token;
  }
  if (!url)
    throw new CliError("config", "Which Hangar? Run hangar login --url https://…, or set HANGAR_URL (or pass --url).");
  if (!token)
    throw new CliError(
      "config",
      "No token: run hangar login, or set HANGAR_TOKEN (or pass --token). Create one under Settings → Access tokens.",
    );
  return { url: normalizeUrl(url), token };
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "nothing is listening there",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the name could not be resolved",
  ECONNRESET: "the connection was reset",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
};

/** A failure to talk to the server at all, said plainly. */
export function unreachable(url: string, error: unknown): CliError {
  // fetch wraps the socket's error; connecting to "localhost" tries several addresses (AggregateError).
  type Coded = { code?: string; errors?: Coded[]; cause?: Coded };
  const outer = error as Coded;
  const inner = outer.cause ?? outer;
  const code = inner.code ?? inner.errors?.[0]?.code ?? outer.code;
  const why = (code && NETWORK_CODES[code]) ?? (error as Error).message;
  return new CliError(
    "unreachable",
    `Can't reach Hangar at ${url} (${why}). Check the address (--url, HANGAR_URL or hangar login) and that the server is running.`,
  );
}

/** What errorFromResponse reads of an answer: a fetch Response or a buffered node:http one. */
export interface Answer {
  status: number;
  statusText: string;
  text(): Promise<string>;
}

/** The server's refusal in its one error shape, or a description of what came back instead. */
export async function errorFromResponse(response: Answer, what: string): Promise<CliError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; requestId?: string } };
    if (body.error?.message)
      return new CliError(
        body.error.code ?? "http_error",
        body.error.requestId ? `${body.error.message} (request ${body.error.requestId})` : body.error.message,
        response.status,
      );
  } catch {
    // Not the API's JSON: a proxy or a server that is not Hangar answered.
  }
  return new CliError(
    response.status === 404 ? "not_found" : "http_error",
    `${what} answered ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200).trim()}` : ""}. Is this a Hangar server?`,
    response.status,
  );
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | (string | undefined)[]>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function apiUrl(connection: Connection, path: string, query: RequestOptions["query"] = {}): string {
  const url = new URL(path.startsWith("http") ? path : `${connection.url}${path}`);
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value])
      if (item !== undefined && item !== false && item !== "") url.searchParams.append(key, String(item));
  }
  return url.toString();
}

/**
 * A request over node:http(s), its answer unread. The CLI's short calls and its downloads use this
 * rather than fetch: fetch loads undici on first use, a quarter of a second on every command.
 */
export function request(
  connection: Connection,
  url: string,
  { method = "GET", headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<http.IncomingMessage> {
  const transport = url.startsWith("https:") ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = transport.request(
      url,
      { method, headers: { Authorization: `Bearer ${connection.token}`, "User-Agent": "hangar-cli", ...headers } },
      resolve,
    );
    outgoing.on("error", (error) => reject(unreachable(connection.url, error)));
    outgoing.end(body);
  });
}

/** A whole answer read into memory, for JSON and error bodies. */
export async function answerOf(
  response: http.IncomingMessage,
): Promise<Answer & { body: Buffer; headers: http.IncomingHttpHeaders }> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return {
    status: response.statusCode ?? 0,
    statusText: response.statusMessage ?? "",
    headers: response.headers,
    body,
    text: async () => body.toString("utf8"),
  };
}

/** A streaming request through fetch, for the build log's server-sent events (they need an AbortSignal). */
export async function send(connection: Connection, path: string, options: RequestOptions = {}): Promise<Response> {
  const url = apiUrl(connection, path, options.query);
  const headers: Record<string, string> = {
    Authorization: `Bearer ${connection.token}`,
    "User-Agent": "hangar-cli",
    ...options.headers,
  };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  try {
    return await fetch(url, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    throw unreachable(connection.url, error);
  }
}

/** A JSON request to the API; a refusal becomes a CliError carrying the server's message. */
export async function api<T>(connection: Connection, path: string, options: RequestOptions = {}): Promise<T> {
  const json = options.body !== undefined;
  const answer = await answerOf(
    await request(connection, apiUrl(connection, path, options.query), {
      method: options.method ?? "GET",
      headers: { ...(json ? { "Content-Type": "application/json" } : {}), ...options.headers },
      body: json ? JSON.stringify(options.body) : undefined,
    }),
  );
  if (answer.status < 200 || answer.status > 299)
    throw await errorFromResponse(answer, `${options.method ?? "GET"} ${path}`);
  if (answer.body.byteLength === 0) return undefined as T;
  try {
    return JSON.parse(answer.body.toString("utf8")) as T;
  } catch {
    throw new CliError(
      "http_error",
      `${options.method ?? "GET"} ${path} answered something that is not JSON. Is this a Hangar server?`,
    );
  }
}

export const segment = (value: string) => encodeURIComponent(value);
