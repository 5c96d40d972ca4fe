"use client";

import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { moveChannelServerAction } from "@/lib/actions/channels";

/** Create a channel or move one to another approved version. */
export function ChannelForm({
  imageId,
  channelNames,
  versions,
}: {
  imageId: string;
  channelNames: string[];
  versions: { id: string; version: string }[];
}) {
  const ids = { name: useId(), version: useId() };
  const [name, setName] = useState(channelNames[0] ?? "stable");
  const [versionId, setVersionId] = useState(versions[0]?.id ?? "");
  const { pending, run, outcome, fieldError } = useServerAction();
  if (versions.length === 0)
    return <p className="text-sm text-muted">Channels can point at approved versions; this image has none yet.</p>;
  const submit = () =>
    run(() => moveChannelServerAction({ imageId, name, versionId }), {
      success: `${name} now points at ${versions.find((version) => version.id === versionId)?.version}.`,
    });
  const nameError = fieldError("name");
  return (
    <div className="flex flex-wrap items-end gap-2">
      <Field id={ids.name} label="Channel" error={nameError}>
        <Input
          {...describedBy(ids.name, { error: nameError })}
          list={`${ids.name}-names`}
          value={name}
          onChange={(event) => setName(event.target.value)}
          className="w-36"
        />
      </Field>
      <datalist id={`${ids.name}-names`}>
        {channelNames.map((channel) => (
          <option key={channel} value={channel} />
        ))}
      </datalist>
      <Field id={ids.version} label="Version">
        <Select
          {...describedBy(ids.version, {})}
          value={versionId}
          onChange={(event) => setVersionId(event.target.value)}
          className="w-36"
        >
          {versions.map((version) => (
            <option key={version.id} value={version.id}>
              {version.version}
            </option>
          ))}
        </Select>
      </Field>
      <Button onClick={submit} disabled={pending}>
        {pending ? "Moving…" : "Move channel"}
      </Button>
      <ActionMessage outcome={outcome} className="basis-full" />
    </div>
  );
}
