// Where `hangar login` keeps the server address and token: $XDG_CONFIG_HOME/hangar/config.json
// (default ~/.config/hangar), the file 0600 in a 0700 directory. A token file others can read is
// refused rather than used, as ssh does with a private key.
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CliError } from "./errors";

export type Environment = Record<string, string | undefined>;

export interface StoredConfig {
  url?: string;
  token?: string;
}

export function configDir(environment: Environment = process.env): string {
  const base = environment.XDG_CONFIG_HOME?.trim() || path.join(os.homedir(), ".config");
  return path.join(base, "hangar");
}

export const configFile = (environment: Environment = process.env) => path.join(configDir(environment), "config.json");

/** Why a config file's mode is refused, or null when only its owner can read or write it. */
export function permissionProblem(file: string, mode: number): string | null {
  if ((mode & 0o077) === 0) return null;
  return `${file} can be read or changed by other users (mode ${(mode & 0o777).toString(8).padStart(3, "0")}), and it holds a token. Run: chmod 600 ${file}`;
}

export async function readConfig(environment: Environment = process.env): Promise<StoredConfig> {
  const file = configFile(environment);
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw new CliError("config", `Can't read ${file}: ${error.message}`);
  });
  if (!info) return {};
  const problem = permissionProblem(file, info.mode);
  if (problem) throw new CliError("config", problem);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new CliError("config", `${file} is not valid JSON (${(error as Error).message}); run hangar login again.`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new CliError("config", `${file} is not a JSON object; run hangar login again.`);
  const { url, token } = parsed as Record<string, unknown>;
  return {
    url: typeof url === "string" ? url : undefined,
    token: typeof token === "string" ? token : undefined,
  };
}

/** Writes the config through a temporary file created 0600, so the token is never briefly readable. */
export async function writeConfig(config: StoredConfig, environment: Environment = process.env): Promise<string> {
  const dir = configDir(environment);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = configFile(environment);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
  return file;
}

export async function removeConfig(environment: Environment = process.env): Promise<boolean> {
  const file = configFile(environment);
  const existed = await stat(file).then(
    () => true,
    () => false,
  );
  await rm(file, { force: true });
  return existed;
}
