// `hangar images ls|show` and `hangar versions ls`: the catalog as aligned tables, or JSON.
import { api, connectionOf, segment, type Connection, type RequestOptions } from "../client";
import { emit, stringValue, type Command, type Values } from "../command";
import { CliError, usageError } from "../errors";
import { formatBytes, table } from "../format";

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface ImageSummary {
  id: string;
  slug: string;
  name: string;
  project: { slug: string };
  os: string;
  osVersion: string | null;
  arch: string;
  visibility: string;
  tags: string[];
  latestVersion: { id: string; version: string } | null;
  updatedAt: string;
}

interface Image extends ImageSummary {
  description: string | null;
  properties: Record<string, string>;
  channels: { name: string; managed: boolean; version: string | null; versionId: string | null; updatedAt: string }[];
}

interface Version {
  id: string;
  version: string;
  format: string | null;
  fileSize: number | null;
  dataStatus: string;
  releaseStatus: string;
  createdAt: string;
}

function limitOf(values: Values): number | undefined {
  const text = stringValue(values.limit);
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200)
    throw new CliError("usage", "--limit is a whole number from 1 to 200 (use --all for everything).");
  return limit;
}

/** One page, or with --all every page, following nextCursor. */
async function collect<T>(connection: Connection, path: string, query: RequestOptions["query"], all: boolean) {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await api<Page<T>>(connection, path, { query: { ...query, cursor } });
    items.push(...page.items);
    if (!all || !page.nextCursor) return { items, nextCursor: page.nextCursor };
    cursor = page.nextCursor;
  }
}

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : null);
const listOptions = {
  limit: { type: "string" },
  all: { type: "boolean" },
} as const;

export const imagesLs: Command = {
  usage: "hangar images ls [--query Q] [--tag T]... [--project P] [--os OS] [--arch A] [--limit N] [--all]",
  summary: "list the images you can see (one page, or --all)",
  options: {
    query: { type: "string", short: "q" },
    tag: { type: "string", multiple: true },
    project: { type: "string" },
    os: { type: "string" },
    arch: { type: "string" },
    ...listOptions,
  },
  async run(context) {
    const { values } = context;
    if (context.positionals.length) throw usageError("images ls takes no arguments.", `Usage: ${this.usage}`);
    const connection = await connectionOf(context.globals, context.io);
    const result = await collect<ImageSummary>(
      connection,
      "/api/v1/images",
      {
        q: stringValue(values.query),
        tag: values.tag as string[] | undefined,
        project: stringValue(values.project),
        os: stringValue(values.os),
        arch: stringValue(values.arch),
        limit: limitOf(values),
      },
      values.all === true,
    );
    emit(context, result, () =>
      [
        table(
          ["SLUG", "NAME", "PROJECT", "OS", "ARCH", "LATEST", "TAGS", "UPDATED"],
          result.items.map((image) => [
            image.slug,
            image.name,
            image.project.slug,
            [image.os, image.osVersion].filter(Boolean).join(" "),
            image.arch,
            image.latestVersion?.version,
            image.tags.join(",") || null,
            day(image.updatedAt),
          ]),
        ),
        result.nextCursor ? "(more: use --all, or --limit)" : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
    return 0;
  },
};

export const imagesShow: Command = {
  usage: "hangar images show SLUG",
  summary: "an image's details and channels",
  options: {},
  async run(context) {
    if (context.positionals.length !== 1) throw usageError("Say which image.", `Usage: ${this.usage}`);
    const connection = await connectionOf(context.globals, context.io);
    const image = await api<Image>(connection, `/api/v1/images/${segment(context.positionals[0]!)}`);
    emit(context, image, () => {
      const lines = [
        `${image.name} (${image.slug})`,
        table(
          ["", ""],
          [
            ["project", image.project.slug],
            ["os", [image.os, image.osVersion].filter(Boolean).join(" ")],
            ["arch", image.arch],
            ["visibility", image.visibility],
            ["tags", image.tags.join(", ") || null],
            ["latest", image.latestVersion?.version],
            ["updated", image.updatedAt],
            ...Object.entries(image.properties ?? {}).map(([key, value]) => [`property ${key}`, value]),
          ],
        )
          .split("\n")
          .slice(1)
          .join("\n"),
      ];
      if (image.description) lines.push("", image.description);
      if (image.channels?.length)
        lines.push(
          "",
          table(
            ["CHANNEL", "VERSION", "MANAGED", "UPDATED"],
            image.channels.map((channel) => [
              channel.name,
              channel.version,
              channel.managed ? "yes" : "no",
              day(channel.updatedAt),
            ]),
          ),
        );
      return lines.join("\n");
    });
    return 0;
  },
};

export const versionsLs: Command = {
  usage: "hangar versions ls SLUG [--status S] [--limit N] [--all]",
  summary: "an image's versions, newest first",
  options: { status: { type: "string" }, ...listOptions },
  async run(context) {
    if (context.positionals.length !== 1) throw usageError("Say which image.", `Usage: ${this.usage}`);
    const connection = await connectionOf(context.globals, context.io);
    const result = await collect<Version>(
      connection,
      `/api/v1/images/${segment(context.positionals[0]!)}/versions`,
      { status: stringValue(context.values.status), limit: limitOf(context.values) },
      context.values.all === true,
    );
    emit(context, result, () =>
      [
        table(
          ["VERSION", "FORMAT", "SIZE", "DATA", "RELEASE", "CREATED", "ID"],
          result.items.map((version) => [
            version.version,
            version.format,
            version.fileSize === null ? null : formatBytes(version.fileSize),
            version.dataStatus,
            version.releaseStatus,
            day(version.createdAt),
            version.id,
          ]),
        ),
        result.nextCursor ? "(more: use --all, or --limit)" : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
    return 0;
  },
};
