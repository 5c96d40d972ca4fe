import { z } from "zod";
import { channelNamePattern, diskBuses, firmwares, rootPasswordPolicies } from "@/db/enums";

const uuid = (what: string) => z.string().uuid(`Say which ${what}.`);

export const vmTemplateSchema = z.object({
  vcpu: z
    .number({ message: "Give the number of vCPUs as a whole number, such as 2." })
    .int("Give the number of vCPUs as a whole number, such as 2.")
    .min(1, "A VM needs at least 1 vCPU.")
    .max(128, "Keep it to 128 vCPUs or fewer."),
  memoryMiB: z
    .number({ message: "Give the memory in MiB as a whole number, such as 2048." })
    .int("Give the memory in MiB as a whole number, such as 2048.")
    .min(128, "Give the VM at least 128 MiB of memory.")
    .max(1048576, "Keep the memory at 1048576 MiB (1 TiB) or less."),
  diskBus: z.enum(diskBuses, { message: `Choose a disk bus: ${diskBuses.join(", ")}.` }),
  firmware: z.enum(firmwares, { message: `Choose the firmware: ${firmwares.join(" or ")}.` }),
  context: z.object({
    network: z.boolean({ message: "Say whether the platform configures the network." }),
    sshKey: z.boolean({ message: "Say whether the platform adds the user's SSH key." }),
    rootPassword: z.enum(rootPasswordPolicies, {
      message: `Choose what happens to the root password: ${rootPasswordPolicies.join(", ")}.`,
    }),
  }),
});

/** The channels an image is offered on: `latest` (the newest approved version) and any of its named channels. */
export const publishedChannelsSchema = z
  .array(
    z.string().regex(channelNamePattern, "A channel name is lowercase letters, digits and -, like latest or stable."),
  )
  .min(1, "Offer at least one channel, such as latest.")
  .max(10, "Offer at most 10 channels.")
  .transform((names) => [...new Set(names)]);

export const setImagePublishingSchema = z.object({
  imageId: uuid("image"),
  published: z.boolean({ message: "Say whether the image is published to platforms." }),
  channels: publishedChannelsSchema,
  vmTemplate: vmTemplateSchema,
});

export const createFeedSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Name the feed after the platform that reads it, such as “OpenNebula prod”.")
    .max(100, "Keep the name to 100 characters or fewer."),
  /** A project's slug for a feed of that project's published images; absent or null for everything (admins). */
  project: z.string().trim().min(1).nullable().default(null),
});

export const revokeFeedSchema = z.object({ id: uuid("feed") });

export const listFeedsSchema = z.object({
  /** A project's slug: that project's feeds; null: every feed the caller manages. */
  project: z.string().trim().min(1).nullable().default(null),
});

export const setPublicFeedSchema = z.object({
  enabled: z.boolean({ message: "Say whether the public feed is on or off." }),
});
