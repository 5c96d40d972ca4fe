// `npm run admin -- <group> <command> ...`: what an operator on the server machine does without the
// web app (the first account for a team, a locked-out admin, automation). Each command is a thin
// adapter over the same db/queries functions the server actions use, acting as the operator, so
// the same rules hold (the last active admin stays, every change is audited). Groups and
// commands are a table: a later issue adds its own group here.
import type { ResolvedCommand } from "./server-command";
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  inviteUser,
  listUsers,
  resetUserPassword,
  setUserDisabled,
  setUserRole,
  OPERATOR_LABEL,
  type AccountActor,
} from "@/db/queries/accounts";
import { findApiTokensByReference, listAllApiTokens } from "@/db/queries/api-tokens";
import { getViewerByEmail, listActiveAdminEmails, type Viewer } from "@/db/queries/users";
import { enablePublicFeed, listAllFeeds, revokeFeed, setImagePublishing, type FeedRow } from "@/db/queries/feeds";
import { channelNamePattern } from "@/db/queries/channels";
import { createFeed, feedBaseUrl, PUBLIC_FEED_SEGMENT } from "@/lib/feeds/service";
import { tokenScopes, type TokenScope } from "@/db/enums";
import { createTokenFor, parseTokenExpiry, revokeTokenAs, tokenStatus } from "@/lib/api/tokens";
import { HangarError } from "@/lib/errors";
import { unlockAccountSignIn } from "@/lib/auth/sign-in-guard";
import { setPasswordUrl } from "@/lib/auth/links";
import { hashPassword } from "@/lib/auth/password";
import { env } from "@/lib/env";
import { emailSchema, newPasswordSchema } from "@/lib/validations/accounts";
import { findRetentionImage } from "@/db/queries/retention";
import { runAllRetention, runRetention, describeSummary, type RetentionReport } from "@/lib/retention/run";

export interface AdminIo {
  out: (line: string) => void;
  err: (line: string) => void;
  readStdin: () => Promise<string>;
}

/** Exit statuses: 0 done, 1 refused (no such account, the last admin…), 2 wrong usage or input. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

class UsageError extends Error {}

interface Command {
  usage: string;
  summary: string;
  options?: ParseArgsConfig["options"];
  run: (
    parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] },
    io: AdminIo,
  ) => Promise<number>;
}

const operator: AccountActor = { kind: "operator" };

const when = (date: Date | null) => (date ? date.toISOString().slice(0, 16).replace("T", " ") : "-");

function oneEmail(positionals: string[], usage: string): string {
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length
        ? `Give exactly one email address.\n\nUsage: ${usage}`
        : `Say which account: give its email address.\n\nUsage: ${usage}`,
    );
  const parsed = emailSchema.safeParse(positionals[0]);
  if (!parsed.success)
    throw new UsageError(`“${positionals[0]}” is not an email address; give one such as alice@example.org.`);
  return parsed.data;
}

const linkLines = (email: string, token: string, expiresAt: Date) => [
  `One-time set-password link for ${email} (valid until ${expiresAt.toISOString()}; it works once and is not shown again):`,
  setPasswordUrl(token),
];

const simple = (
  usage: string,
  summary: string,
  act: (email: string) => Promise<{ email: string; changed: boolean }>,
  done: string,
  already: string,
): Command => ({
  usage,
  summary,
  run: async ({ positionals }, io) => {
    const result = await act(oneEmail(positionals, usage));
    io.out(result.changed ? `${result.email} ${done}.` : `${result.email} ${already}; nothing changed.`);
    return EXIT.ok;
  },
});

const userCommands: Record<string, Command> = {
  create: {
    usage: "user create EMAIL [--admin] [--name NAME] [--password-stdin]",
    summary: "create a local account; prints a one-time set-password link, or reads the password from standard input",
    options: { admin: { type: "boolean" }, name: { type: "string" }, "password-stdin": { type: "boolean" } },
    run: async ({ values, positionals }, io) => {
      const email = oneEmail(positionals, userCommands.create!.usage);
      let passwordHash: string | undefined;
      if (values["password-stdin"]) {
        const password = (await io.readStdin()).replace(/\r?\n$/, "");
        const checked = newPasswordSchema.safeParse(password);
        if (!checked.success)
          throw new UsageError(`The password from standard input is not usable: ${checked.error.issues[0]?.message}`);
        passwordHash = await hashPassword(checked.data);
      }
      const name = typeof values.name === "string" ? values.name : undefined;
      const role = values.admin ? "admin" : "member";
      const issued = await inviteUser({
        actor: operator,
        email,
        name,
        role,
        passwordHash,
        lifetimeHours: env().HANGAR_PASSWORD_LINK_HOURS,
      });
      io.out(`Created ${role} account ${issued.email}.`);
      if (issued.token) for (const line of linkLines(issued.email, issued.token, issued.expiresAt)) io.out(line);
      else io.out("Its password is the one read from standard input.");
      return EXIT.ok;
    },
  },
  disable: simple(
    "user disable EMAIL",
    "disable an account; its sessions stop at once",
    (email) => setUserDisabled({ actor: operator, target: { email }, disabled: true }),
    "is disabled; their sessions have ended",
    "was already disabled",
  ),
  enable: simple(
    "user enable EMAIL",
    "enable a disabled account again",
    (email) => setUserDisabled({ actor: operator, target: { email }, disabled: false }),
    "is enabled again",
    "was already enabled",
  ),
  "make-admin": simple(
    "user make-admin EMAIL",
    "make an account an admin",
    (email) => setUserRole({ actor: operator, target: { email }, role: "admin" }),
    "is an admin now",
    "was already an admin",
  ),
  "revoke-admin": simple(
    "user revoke-admin EMAIL",
    "make an admin a member again (never the last active admin)",
    (email) => setUserRole({ actor: operator, target: { email }, role: "member" }),
    "is a member now",
    "was not an admin",
  ),
  "reset-password": {
    usage: "user reset-password EMAIL",
    summary: "end a local account's password at once and print a one-time link to choose a new one",
    run: async ({ positionals }, io) => {
      const issued = await resetUserPassword({
        actor: operator,
        target: { email: oneEmail(positionals, userCommands["reset-password"]!.usage) },
        lifetimeHours: env().HANGAR_PASSWORD_LINK_HOURS,
      });
      io.out(`The password of ${issued.email} no longer works.`);
      for (const line of linkLines(issued.email, issued.token, issued.expiresAt)) io.out(line);
      return EXIT.ok;
    },
  },
  unlock: {
    usage: "user unlock EMAIL",
    summary: "end the sign-in lock that failed password attempts put on an account",
    run: async ({ positionals }, io) => {
      const email = oneEmail(positionals, userCommands.unlock!.usage);
      const { unlocked } = await unlockAccountSignIn({ email, actorId: null });
      io.out(
        unlocked
          ? `Sign-in for ${email} is unlocked; its failed attempts are forgotten.`
          : `${email} had no failed sign-ins to forget; nothing changed.`,
      );
      return EXIT.ok;
    },
  },
  list: {
    usage: "user list [--json] [--search TEXT]",
    summary: "list every account (email, name, role, how they sign in, status, last sign-in, projects)",
    options: { json: { type: "boolean" }, search: { type: "string" } },
    run: async ({ values, positionals }, io) => {
      if (positionals.length)
        throw new UsageError(`user list takes no arguments (to filter, use --search ${positionals[0]}).`);
      const people = await listUsers({
        actor: operator,
        search: typeof values.search === "string" ? values.search : undefined,
        limit: 100_000,
      });
      if (values.json) {
        io.out(JSON.stringify(people, null, 2));
        return EXIT.ok;
      }
      const rows = people.map((person) => [
        person.email,
        person.name ?? "",
        person.role,
        [person.local ? "password" : null, person.sso ? "sso" : null].filter(Boolean).join("+") || "-",
        person.disabledAt
          ? "disabled"
          : person.pendingLink
            ? person.pendingLink.purpose === "invite"
              ? "invited"
              : "reset"
            : "active",
        person.lastSignInAt ? person.lastSignInAt.toISOString().slice(0, 16).replace("T", " ") : "never",
        person.projects.map((project) => `${project.slug}:${project.role}`).join(",") || "-",
      ]);
      io.out(table(["EMAIL", "NAME", "ROLE", "SIGN-IN", "STATUS", "LAST SIGN-IN (UTC)", "PROJECTS"], rows));
      io.out(`${people.length} account${people.length === 1 ? "" : "s"}.`);
      return EXIT.ok;
    },
  },
};

function printRetention(reports: RetentionReport[], io: AdminIo): void {
  for (const report of reports) {
    io.out(
      `${report.image.slug}: ${describeSummary(report.summary)}${report.dryRun ? " (dry run, nothing changed)" : ""}`,
    );
    if (report.changes.length)
      io.out(
        table(
          ["VERSION", "STATUS", "CHANGE", "OUTCOME", "REASON"],
          report.changes.map((change) => [change.version, change.from, change.kind, change.outcome, change.reason]),
        ),
      );
  }
}

const retentionCommands: Record<string, Command> = {
  run: {
    usage: "retention run [--image SLUG] [--dry-run] [--json]",
    summary:
      "apply retention rules now: one image's saved rule, or every enabled rule; --dry-run prints the plan and changes nothing",
    options: { image: { type: "string" }, "dry-run": { type: "boolean" }, json: { type: "boolean" } },
    run: async ({ values, positionals }, io) => {
      if (positionals.length)
        throw new UsageError(`retention run takes no arguments (for one image, use --image ${positionals[0]}).`);
      const dryRun = values["dry-run"] === true;
      const actor = { kind: "system", label: OPERATOR_LABEL } as const;
      let reports: RetentionReport[];
      if (typeof values.image === "string") {
        const image = await findRetentionImage({ slug: values.image });
        if (!image) throw new HangarError("not_found", `There is no image ${values.image}.`);
        reports = [await runRetention({ image, actor, dryRun })];
      } else {
        reports = await runAllRetention({ actor, dryRun, log: io.err });
        if (!reports.length) io.out("No image has an enabled retention rule; nothing to do.");
      }
      if (values.json) io.out(JSON.stringify(reports, null, 2));
      else printRetention(reports, io);
      return EXIT.ok;
    },
  },
};

const tokenScopeValue = (value: unknown): TokenScope => {
  if (typeof value === "string" && (tokenScopes as readonly string[]).includes(value)) return value as TokenScope;
  throw new UsageError(
    value === undefined
      ? "Say what the token may do: --scope read, write or admin."
      : `“${String(value)}” is not a scope; use read, write or admin.`,
  );
};

const tokenCommands: Record<string, Command> = {
  create: {
    usage: "token create --user EMAIL --scope read|write|admin [--project SLUG] [--expires 30d|never] [--name NAME]",
    summary: "make an API token for an account (a project token with --project) and print its secret once",
    options: {
      user: { type: "string" },
      scope: { type: "string" },
      project: { type: "string" },
      expires: { type: "string" },
      name: { type: "string" },
    },
    run: async ({ values, positionals }, io) => {
      if (positionals.length)
        throw new UsageError(`token create takes no arguments.\n\nUsage: ${tokenCommands.create!.usage}`);
      if (typeof values.user !== "string")
        throw new UsageError(`Say whose token it is: --user EMAIL.\n\nUsage: ${tokenCommands.create!.usage}`);
      const email = oneEmail([values.user], tokenCommands.create!.usage);
      const scope = tokenScopeValue(values.scope);
      const owner = await getViewerByEmail({ email });
      if (!owner) throw new HangarError("not_found", `There is no enabled account ${email}.`);
      const name = typeof values.name === "string" && values.name.trim() ? values.name.trim() : `${scope} token`;
      const { token, secret } = await createTokenFor({
        actorId: null,
        owner,
        name,
        scope,
        projectSlug: typeof values.project === "string" ? values.project : undefined,
        expiresInDays: parseTokenExpiry(typeof values.expires === "string" ? values.expires : undefined),
      });
      io.out(
        `Created ${token.projectSlug ? `project token for ${token.projectSlug} (${token.projectRole})` : "personal token"} “${token.name}” for ${token.userEmail}, scope ${token.scope}, ${token.expiresAt ? `expires ${token.expiresAt.toISOString()}` : "never expires"}.`,
      );
      io.out("Its secret is shown only now; store it where it is needed:");
      io.out(secret);
      return EXIT.ok;
    },
  },
  list: {
    usage: "token list [--user EMAIL] [--json]",
    summary: "list API tokens (never their secrets): owner, project, scope, expiry, last use, revoked",
    options: { user: { type: "string" }, json: { type: "boolean" } },
    run: async ({ values }, io) => {
      let tokens = await listAllApiTokens({ limit: 100_000 });
      if (typeof values.user === "string") {
        const email = values.user.toLowerCase();
        tokens = tokens.filter((token) => token.userEmail.toLowerCase() === email);
      }
      if (values.json) {
        io.out(JSON.stringify(tokens, null, 2));
        return EXIT.ok;
      }
      io.out(
        table(
          ["ID", "PREFIX", "OWNER", "NAME", "PROJECT", "SCOPE", "EXPIRES (UTC)", "LAST USED", "STATE"],
          tokens.map((token) => [
            token.id,
            `${token.prefix}…`,
            token.userEmail,
            token.name,
            token.projectSlug ? `${token.projectSlug}:${token.projectRole}` : "-",
            token.scope,
            token.expiresAt ? when(token.expiresAt) : "never",
            token.lastUsedAt ? `${when(token.lastUsedAt)} ${token.lastUsedAddress ?? ""}`.trim() : "never",
            tokenStatus(token),
          ]),
        ),
      );
      io.out(`${tokens.length} token${tokens.length === 1 ? "" : "s"}.`);
      return EXIT.ok;
    },
  },
  revoke: {
    usage: "token revoke ID|PREFIX",
    summary: "revoke a token at once (by its id, or the prefix token list shows)",
    run: async ({ positionals }, io) => {
      if (positionals.length !== 1)
        throw new UsageError(`Say which token: its id or its prefix.\n\nUsage: ${tokenCommands.revoke!.usage}`);
      const found = await findApiTokensByReference({ reference: positionals[0]! });
      if (!found.length) throw new HangarError("not_found", `No token has the id or prefix ${positionals[0]}.`);
      if (found.length > 1)
        throw new HangarError("conflict", `More than one token starts with ${positionals[0]}; give its id instead.`);
      const token = found[0]!;
      const revoked = await revokeTokenAs({ actorId: null, token });
      io.out(
        revoked
          ? `Revoked ${token.prefix}… (“${token.name}”, ${token.userEmail}); it stops working at once.`
          : `${token.prefix}… was already revoked; nothing changed.`,
      );
      return EXIT.ok;
    },
  },
};

/**
 * Whom a feed or publishing command acts as: --as EMAIL, or the one enabled admin when there is
 * exactly one. A feed reads as the account that made it, so this is not a formality.
 */
async function actingAccount(as: unknown): Promise<Viewer> {
  if (typeof as === "string") {
    const viewer = await getViewerByEmail({ email: oneEmail([as], "--as EMAIL") });
    if (!viewer) throw new HangarError("not_found", `There is no enabled account ${as}.`);
    return viewer;
  }
  const admins = await listActiveAdminEmails();
  if (admins.length !== 1)
    throw new UsageError(
      admins.length
        ? `Say which account this acts as: --as EMAIL (one of the ${admins.length} admins, or a project owner).`
        : "There is no enabled admin yet; create one with user create --admin, or give --as EMAIL.",
    );
  return (await getViewerByEmail({ email: admins[0]! }))!;
}

const feedStatus = (feed: FeedRow) => (feed.revokedAt ? `revoked ${when(feed.revokedAt)}` : "active");

/**
 * A feed under the default name, or the first numbered one that is free: feed names must differ
 * (OpenNebula's app names carry them), and an operator who gave no name wants a feed, not a refusal.
 */
async function createFeedNamedFreely({ viewer, projectSlug }: { viewer: Viewer; projectSlug?: string }) {
  const base = projectSlug ? `${projectSlug} feed` : "All published images";
  for (let number = 1; ; number += 1) {
    try {
      return await createFeed({ viewer, name: number === 1 ? base : `${base} ${number}`, projectSlug });
    } catch (error) {
      if (!(error instanceof HangarError && error.code === "conflict") || number >= 100) throw error;
    }
  }
}

const feedCommands: Record<string, Command> = {
  create: {
    usage: "feed create [--project SLUG] [--name NAME] [--as EMAIL]",
    summary:
      "make a feed URL for platforms (a project's published images, or with no --project everything an admin may publish) and print it once",
    options: { project: { type: "string" }, name: { type: "string" }, as: { type: "string" } },
    run: async ({ values, positionals }, io) => {
      if (positionals.length)
        throw new UsageError(`feed create takes no arguments.

Usage: ${feedCommands.create!.usage}`);
      const viewer = await actingAccount(values.as);
      const projectSlug = typeof values.project === "string" ? values.project : undefined;
      const { feed, url } =
        typeof values.name === "string"
          ? await createFeed({ viewer, name: values.name, projectSlug })
          : await createFeedNamedFreely({ viewer, projectSlug });
      io.out(
        `Created feed “${feed.name}” (${feed.projectSlug ? `project ${feed.projectSlug}` : "every project"}), read as ${viewer.email}.`,
      );
      io.out("Its URL is shown only now; give it to the platforms that read it:");
      io.out(url);
      io.out(`  OpenNebula marketplace ENDPOINT: ${url}opennebula/`);
      io.out(`  simplestreams (LXD, Incus, sstream-mirror-glance): ${url}streams/v1/index.json`);
      io.out(`  channel lookup: ${url}channels/<image>/<channel>.json`);
      return EXIT.ok;
    },
  },
  list: {
    usage: "feed list [--json]",
    summary: "every feed with its scope, last use and number of uses",
    options: { json: { type: "boolean" } },
    run: async ({ values }, io) => {
      const feeds = await listAllFeeds();
      if (values.json) {
        io.out(JSON.stringify(feeds, null, 2));
        return EXIT.ok;
      }
      io.out(
        table(
          ["ID", "URL", "NAME", "SCOPE", "BY", "USES", "LAST USED", "STATUS"],
          feeds.map((feed) => [
            feed.id,
            feed.kind === "public" ? "/feeds/public/" : `/feeds/${feed.prefix}…`,
            feed.name,
            feed.kind === "public" ? "public images" : (feed.projectSlug ?? "everything"),
            feed.createdByEmail,
            String(feed.useCount),
            feed.lastUsedAt ? `${when(feed.lastUsedAt)} ${feed.lastUsedAddress ?? ""}`.trim() : "never",
            feedStatus(feed),
          ]),
        ),
      );
      io.out(`${feeds.length} feed${feeds.length === 1 ? "" : "s"}.`);
      return EXIT.ok;
    },
  },
  revoke: {
    usage: "feed revoke ID|PREFIX [--as EMAIL]",
    summary: "revoke a feed at once (by its id, or the URL prefix feed list shows); its URL answers 404 from then on",
    options: { as: { type: "string" } },
    run: async ({ values, positionals }, io) => {
      if (positionals.length !== 1)
        throw new UsageError(`Say which feed: its id or its prefix.

Usage: ${feedCommands.revoke!.usage}`);
      const reference = positionals[0]!;
      const found = (await listAllFeeds()).filter(
        (feed) =>
          feed.id === reference || (feed.prefix !== null && reference.length >= 8 && feed.prefix.startsWith(reference)),
      );
      if (!found.length) throw new HangarError("not_found", `No feed has the id or prefix ${reference}.`);
      if (found.length > 1)
        throw new HangarError("conflict", `More than one feed starts with ${reference}; give its id.`);
      const viewer = await actingAccount(values.as);
      const before = found[0]!;
      await revokeFeed({ viewer, id: before.id });
      io.out(
        before.revokedAt
          ? `“${before.name}” was already revoked; nothing changed.`
          : `Revoked “${before.name}”; its URL stops answering at once.`,
      );
      return EXIT.ok;
    },
  },
  public: {
    usage: "feed public on|off [--as EMAIL]",
    summary: "turn the anonymous feed of public, published images (/feeds/public/) on or off",
    options: { as: { type: "string" } },
    run: async ({ values, positionals }, io) => {
      const [state] = positionals;
      if (positionals.length !== 1 || (state !== "on" && state !== "off"))
        throw new UsageError(`Say on or off.

Usage: ${feedCommands.public!.usage}`);
      const viewer = await actingAccount(values.as);
      if (state === "on") {
        await enablePublicFeed({ viewer });
        io.out(`The public feed is on: ${feedBaseUrl(PUBLIC_FEED_SEGMENT)}`);
      } else {
        const live = (await listAllFeeds()).find((feed) => feed.kind === "public" && !feed.revokedAt);
        if (live) await revokeFeed({ viewer, id: live.id });
        io.out(live ? "The public feed is off." : "The public feed was already off; nothing changed.");
      }
      return EXIT.ok;
    },
  },
};

function channelList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const names = String(value)
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const wrong = names.find((name) => !channelNamePattern.test(name));
  if (!names.length || wrong)
    throw new UsageError(
      `${wrong ? `“${wrong}” is not a channel name` : "Name at least one channel"}; use lowercase names such as latest,stable.`,
    );
  return [...new Set(names)];
}

async function imageBySlug(slug: string | undefined, usage: string) {
  if (!slug)
    throw new UsageError(`Say which image: its slug.

Usage: ${usage}`);
  const image = await findRetentionImage({ slug });
  if (!image) throw new HangarError("not_found", `There is no image ${slug}.`);
  return image;
}

const publishCommands: Record<string, Command> = {
  publish: {
    usage: "publish IMAGE [--channels latest,stable] [--as EMAIL]",
    summary: "offer an image's approved versions to platforms through feeds, on these channels (default latest)",
    options: { channels: { type: "string" }, as: { type: "string" } },
    run: async ({ values, positionals }, io) => {
      if (positionals.length > 1)
        throw new UsageError(`Give one image.

Usage: ${publishCommands.publish!.usage}`);
      const image = await imageBySlug(positionals[0], publishCommands.publish!.usage);
      const channels = channelList(values.channels) ?? ["latest"];
      await setImagePublishing({
        viewer: await actingAccount(values.as),
        imageId: image.id,
        published: true,
        channels,
      });
      io.out(`Published ${positionals[0]} on ${channels.join(", ")}: every feed that may see it offers it now.`);
      return EXIT.ok;
    },
  },
  unpublish: {
    usage: "unpublish IMAGE [--as EMAIL]",
    summary: "take an image out of every feed at once",
    options: { as: { type: "string" } },
    run: async ({ values, positionals }, io) => {
      if (positionals.length > 1)
        throw new UsageError(`Give one image.

Usage: ${publishCommands.unpublish!.usage}`);
      const image = await imageBySlug(positionals[0], publishCommands.unpublish!.usage);
      await setImagePublishing({ viewer: await actingAccount(values.as), imageId: image.id, published: false });
      io.out(`Unpublished ${positionals[0]}: no feed offers it any more.`);
      return EXIT.ok;
    },
  },
};

const groups: Record<string, { summary: string; commands: Record<string, Command> }> = {
  user: { summary: "accounts", commands: userCommands },
  retention: { summary: "retention rules", commands: retentionCommands },
  token: { summary: "API tokens", commands: tokenCommands },
  feed: { summary: "feeds for platforms", commands: feedCommands },
};

/** Commands of one word (`publish IMAGE`), listed after the groups. */
const singles: Record<string, Command> = publishCommands;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

export function helpText(): string {
  const lines = [
    "Usage: npm run admin -- <command> [options]",
    "",
    "Runs on the server with direct database access (DATABASE_URL, or the embedded PostgreSQL in HANGAR_DATA_DIR).",
    "",
  ];
  for (const group of [...Object.values(groups), { commands: singles }]) {
    for (const command of Object.values(group.commands)) lines.push(`  ${command.usage}`, `      ${command.summary}`);
  }
  lines.push(
    "  help",
    "      this text",
    "",
    "Exit status: 0 done, 1 refused (no such account, the last active admin…), 2 wrong usage or input.",
  );
  return lines.join("\n");
}

export type Resolved = ResolvedCommand<AdminIo>;

/** Parses the command line without touching the database, so `help` and typos need none. */
export function resolve(argv: string[]): Resolved {
  const [groupName, commandName, ...rest] = argv;
  if (!groupName || groupName === "help" || groupName === "--help" || groupName === "-h") return { kind: "help" };
  const single = singles[groupName];
  const group = groups[groupName];
  if (!group && !single) return { kind: "usage", message: `Unknown command “${groupName}”.\n\n${helpText()}` };
  if (single) return run(single, argv.slice(1));
  const command = commandName ? group!.commands[commandName] : undefined;
  if (!command) {
    const known = Object.keys(group!.commands).join(", ");
    return {
      kind: "usage",
      message: commandName
        ? `Unknown command “${groupName} ${commandName}”; ${groupName} commands are: ${known}.`
        : `Say what to do with ${group!.summary}: ${known}.\n\n${helpText()}`,
    };
  }
  return run(command, rest);
}

function run(command: Command, rest: string[]): Resolved {
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options ?? {}, allowPositionals: true, strict: true });
  } catch (error) {
    return { kind: "usage", message: `${(error as Error).message}\n\nUsage: npm run admin -- ${command.usage}` };
  }
  return {
    kind: "command",
    run: async (io) => {
      try {
        return await command.run(parsed, io);
      } catch (error) {
        if (error instanceof UsageError) {
          io.err(error.message);
          return EXIT.usage;
        }
        if (error instanceof HangarError) {
          io.err(error.message);
          return error.code === "invalid" ? EXIT.usage : EXIT.refused;
        }
        throw error;
      }
    },
  };
}
