"use client";

import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { diskBuses, firmwares, rootPasswordPolicies, type RootPasswordPolicy, type VmTemplate } from "@/db/enums";
import { setImagePublishingServerAction } from "@/lib/actions/feeds";
import { setImagePublishingSchema } from "@/lib/validations/platforms";

const rootPasswordWords: Record<RootPasswordPolicy, string> = {
  locked: "Locked (no root password)",
  random: "Random, set at first boot",
  "from-context": "From the platform’s context",
};

const fieldNames = [
  "channels",
  "vmTemplate.vcpu",
  "vmTemplate.memoryMiB",
  "vmTemplate.diskBus",
  "vmTemplate.firmware",
  "vmTemplate.context.rootPassword",
];

/** An image's publishing to platforms: on or off, the channels offered, and the VM template platforms get. */
export function PublishingForm({
  imageId,
  channelNames,
  saved,
}: {
  imageId: string;
  /** `latest` and the image's own channels. */
  channelNames: string[];
  saved: { published: boolean; publishedChannels: string[]; vmTemplate: VmTemplate };
}) {
  const action = useServerAction();
  const id = useId();
  const [published, setPublished] = useState(saved.published);
  const [channels, setChannels] = useState<string[]>(saved.publishedChannels);
  const [vcpu, setVcpu] = useState(String(saved.vmTemplate.vcpu));
  const [memory, setMemory] = useState(String(saved.vmTemplate.memoryMiB));
  const [diskBus, setDiskBus] = useState(saved.vmTemplate.diskBus);
  const [firmware, setFirmware] = useState(saved.vmTemplate.firmware);
  const [network, setNetwork] = useState(saved.vmTemplate.context.network);
  const [sshKey, setSshKey] = useState(saved.vmTemplate.context.sshKey);
  const [rootPassword, setRootPassword] = useState(saved.vmTemplate.context.rootPassword);
  // Saved channels the image no longer has stay visible, so unticking them is possible.
  const choices = [...new Set([...channelNames, ...saved.publishedChannels])];

  const error = (name: string) =>
    action.fieldError(name) ?? Object.entries(action.fieldErrors).find(([key]) => key.startsWith(`${name}.`))?.[1]?.[0];

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const input = {
      imageId,
      published,
      channels: choices.filter((name) => channels.includes(name)),
      vmTemplate: {
        vcpu: vcpu.trim() === "" ? NaN : Number(vcpu),
        memoryMiB: memory.trim() === "" ? NaN : Number(memory),
        diskBus,
        firmware,
        context: { network, sshKey, rootPassword },
      },
    };
    if (!action.check(setImagePublishingSchema, input)) return;
    action.run(() => setImagePublishingServerAction(input), {
      success: (data) =>
        data.published
          ? `Saved: published to platforms on ${data.publishedChannels.join(", ")}.`
          : "Saved: not published to platforms.",
    });
  }

  const channelsError = error("channels");
  return (
    <form onSubmit={submit} className="space-y-3" aria-label="Publishing to platforms" noValidate>
      <label className="flex items-center gap-2 text-sm font-medium">
        <input type="checkbox" checked={published} onChange={(e) => setPublished(e.target.checked)} />
        Published to platforms
      </label>
      <fieldset className="space-y-1" aria-describedby={channelsError ? `${id}-channels-error` : `${id}-channels-hint`}>
        <legend className="text-xs font-medium text-muted">Channels offered</legend>
        {choices.map((name) => (
          <label key={name} className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              checked={channels.includes(name)}
              onChange={(e) =>
                setChannels((current) =>
                  e.target.checked ? [...current, name] : current.filter((chosen) => chosen !== name),
                )
              }
            />
            {name}
          </label>
        ))}
        {channelsError ? (
          <p id={`${id}-channels-error`} className="text-xs text-danger">
            {channelsError}
          </p>
        ) : (
          <p id={`${id}-channels-hint`} className="text-xs text-muted">
            Only approved versions are offered; a disabled or revoked one leaves every feed at once.
          </p>
        )}
      </fieldset>
      <fieldset className="space-y-3">
        <legend className="text-sm font-semibold">VM template</legend>
        <div className="grid grid-cols-2 gap-3">
          <Field id={`${id}-vcpu`} label="vCPUs" error={error("vmTemplate.vcpu")}>
            <Input
              {...describedBy(`${id}-vcpu`, { error: error("vmTemplate.vcpu") })}
              type="number"
              inputMode="numeric"
              min={1}
              max={128}
              value={vcpu}
              onChange={(e) => setVcpu(e.target.value)}
            />
          </Field>
          <Field id={`${id}-memory`} label="Memory (MiB)" error={error("vmTemplate.memoryMiB")}>
            <Input
              {...describedBy(`${id}-memory`, { error: error("vmTemplate.memoryMiB") })}
              type="number"
              inputMode="numeric"
              min={128}
              max={1048576}
              step={128}
              value={memory}
              onChange={(e) => setMemory(e.target.value)}
            />
          </Field>
          <Field id={`${id}-bus`} label="Disk bus" error={error("vmTemplate.diskBus")}>
            <Select
              {...describedBy(`${id}-bus`, { error: error("vmTemplate.diskBus") })}
              value={diskBus}
              onChange={(e) => setDiskBus(e.target.value as VmTemplate["diskBus"])}
            >
              {diskBuses.map((bus) => (
                <option key={bus} value={bus}>
                  {bus}
                </option>
              ))}
            </Select>
          </Field>
          <Field id={`${id}-firmware`} label="Firmware" error={error("vmTemplate.firmware")}>
            <Select
              {...describedBy(`${id}-firmware`, { error: error("vmTemplate.firmware") })}
              value={firmware}
              onChange={(e) => setFirmware(e.target.value as VmTemplate["firmware"])}
            >
              {firmwares.map((choice) => (
                <option key={choice} value={choice}>
                  {choice === "uefi" ? "UEFI" : "BIOS"}
                </option>
              ))}
            </Select>
          </Field>
        </div>
        <fieldset className="space-y-1">
          <legend className="text-xs font-medium text-muted">Contextualization</legend>
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={network} onChange={(e) => setNetwork(e.target.checked)} />
            Configure the network
          </label>
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={sshKey} onChange={(e) => setSshKey(e.target.checked)} />
            Add the user&rsquo;s SSH key
          </label>
        </fieldset>
        <Field id={`${id}-root`} label="Root password" error={error("vmTemplate.context.rootPassword")}>
          <Select
            {...describedBy(`${id}-root`, { error: error("vmTemplate.context.rootPassword") })}
            value={rootPassword}
            onChange={(e) => setRootPassword(e.target.value as RootPasswordPolicy)}
          >
            {rootPasswordPolicies.map((policy) => (
              <option key={policy} value={policy}>
                {rootPasswordWords[policy]}
              </option>
            ))}
          </Select>
        </Field>
      </fieldset>
      <Button type="submit" variant="primary" disabled={action.pending}>
        {action.pending ? "Saving…" : "Save publishing"}
      </Button>
      <ActionMessage outcome={action.outcome} fieldsShown={fieldNames} />
    </form>
  );
}
