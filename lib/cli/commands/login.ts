// `hangar login` checks a token against the server before storing it; `hangar logout` forgets it.
import { api, normalizeUrl } from "../client";
import { emit, promptSecret, readAllStdin, type Command } from "../command";
import { configFile, readConfig, removeConfig, writeConfig } from "../config";
import { CliError } from "../errors";

export const login: Command = {
  usage: "hangar login [--url URL] [--token TOKEN]",
  summary: "check a token against a Hangar server and store both in the config file (0600)",
  help: `The token is read from --token, else from standard input when it is not a terminal
(echo "$TOKEN" | hangar login --url …), else asked for without echoing it.
It is checked with a request to the server before anything is saved to
$XDG_CONFIG_HOME/hangar/config.json (default ~/.config/hangar), written with mode 0600.`,
  options: {},
  async run(context) {
    const { globals, io } = context;
    let url = globals.url ?? io.environment.HANGAR_URL?.trim();
    if (!url) url = (await readConfig(io.environment)).url;
    if (!url) throw new CliError("usage", "Say which Hangar: hangar login --url https://hangar.example.org");
    url = normalizeUrl(url);
    let token = globals.token;
    if (!token) {
      if (!io.stdinIsTty) token = (await readAllStdin()).trim();
      else token = (await promptSecret(`Token for ${url}: `)).trim();
    }
    if (!token) throw new CliError("usage", "No token given. Create one under Settings → Access tokens on the server.");
    // Any authenticated request checks the token; a refusal carries the server's reason.
    await api({ url, token }, "/api/v1/images", { query: { limit: 1 } });
    const file = await writeConfig({ url, token }, io.environment);
    emit(context, { url, file }, () => `Logged in to ${url}; the token is stored in ${file}.`);
    return 0;
  },
};

export const logout: Command = {
  usage: "hangar logout",
  summary: "forget the stored token (it stays valid on the server until revoked)",
  options: {},
  async run(context) {
    const file = configFile(context.io.environment);
    const removed = await removeConfig(context.io.environment);
    emit(context, { file, removed }, () =>
      removed
        ? `Removed ${file}. The token itself still works until it expires or is revoked under Settings → Access tokens.`
        : `Not logged in (no ${file}).`,
    );
    return 0;
  },
};
