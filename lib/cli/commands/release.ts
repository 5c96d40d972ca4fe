// `hangar approve|reject` (a version's review) and `hangar channel set` (move a channel).
import { api, connectionOf, segment } from "../client";
import { emit, stringValue, type Command, type CommandContext } from "../command";
import { usageError } from "../errors";
import { describeRef, parseRef, resolveVersion } from "../refs";

interface Version {
  id: string;
  image: { slug: string };
  version: string;
  releaseStatus: string;
}

async function release(context: CommandContext, action: "approve" | "reject", usage: string) {
  if (context.positionals.length !== 1) throw usageError("Say which version.", `Usage: ${usage}`);
  const reason = stringValue(context.values.reason);
  if (action === "reject" && !reason?.trim())
    throw usageError("Say why: --reason R (the image's maintainers see it).", `Usage: ${usage}`);
  const ref = parseRef(context.positionals[0]!);
  const connection = await connectionOf(context.globals, context.io);
  const id = ref.kind === "id" ? ref.id : (await resolveVersion(connection, ref)).id;
  const version = await api<Version>(connection, `/api/v1/versions/${segment(id)}/release`, {
    method: "POST",
    body: { action, ...(reason ? { reason } : {}) },
  });
  emit(
    context,
    version,
    () => `${describeRef(ref)} (${version.image.slug} ${version.version}) is now ${version.releaseStatus}.`,
  );
  return 0;
}

export const approve: Command = {
  usage: "hangar approve REF [--reason R]",
  summary: "approve a version pending review",
  options: { reason: { type: "string" } },
  run(context) {
    return release(context, "approve", this.usage);
  },
};

export const reject: Command = {
  usage: "hangar reject REF --reason R",
  summary: "reject a version pending review, saying why",
  options: { reason: { type: "string" } },
  run(context) {
    return release(context, "reject", this.usage);
  },
};

interface ChannelAnswer {
  image: { slug: string };
  channel: { name: string };
  version: { id: string; version: string };
}

export const channelSet: Command = {
  usage: "hangar channel set IMAGE CHANNEL VERSION",
  summary: "point a channel at a version (by label)",
  options: {},
  async run(context) {
    if (context.positionals.length !== 3)
      throw usageError("Say the image, the channel and the version.", `Usage: ${this.usage}`);
    const [image, channel, version] = context.positionals as [string, string, string];
    const connection = await connectionOf(context.globals, context.io);
    const moved = await api<ChannelAnswer>(
      connection,
      `/api/v1/images/${segment(image)}/channels/${segment(channel)}`,
      {
        method: "PUT",
        body: { version },
      },
    );
    emit(
      context,
      moved,
      () => `${moved.image.slug}@${moved.channel.name} now points at ${moved.version.version} (${moved.version.id}).`,
    );
    return 0;
  },
};
