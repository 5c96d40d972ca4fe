"use client";

import { useId, useState } from "react";
import { architectures, type Architecture } from "@/db/enums";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select, Textarea } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { updateImageDetailsServerAction } from "@/lib/actions/images";
import { updateImageDetailsSchema } from "@/lib/validations/images";

export interface ImageDetails {
  imageId: string;
  name: string;
  description: string;
  os: string;
  osVersion: string;
  arch: Architecture;
}

export function DetailsForm({ details }: { details: ImageDetails }) {
  const base = useId();
  const [values, setValues] = useState(details);
  const { pending, outcome, run, check, fieldError } = useServerAction();
  const errorOf = (field: keyof ImageDetails) => fieldError(field);
  const set = (field: keyof ImageDetails) => (event: { target: { value: string } }) =>
    setValues((current) => ({ ...current, [field]: event.target.value }));
  const control = (field: keyof ImageDetails, hint?: string) => ({
    ...describedBy(`${base}-${field}`, { error: errorOf(field), hint }),
    value: values[field],
    onChange: set(field),
  });
  const descriptionHint = "Markdown: **bold**, lists, links, code. HTML is not rendered.";

  return (
    <form
      className="space-y-3"
      onSubmit={(event) => {
        event.preventDefault();
        if (!check(updateImageDetailsSchema, values)) return;
        run(() => updateImageDetailsServerAction(values), { success: "Saved the details." });
      }}
    >
      <Field id={`${base}-name`} label="Name" error={errorOf("name")}>
        <Input {...control("name")} />
      </Field>
      <div className="grid grid-cols-3 gap-3">
        <Field id={`${base}-os`} label="Operating system" error={errorOf("os")}>
          <Input {...control("os")} />
        </Field>
        <Field id={`${base}-osVersion`} label="OS version" error={errorOf("osVersion")}>
          <Input {...control("osVersion")} />
        </Field>
        <Field id={`${base}-arch`} label="Architecture" error={errorOf("arch")}>
          <Select {...control("arch")}>
            {architectures.map((arch) => (
              <option key={arch} value={arch}>
                {arch}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <Field id={`${base}-description`} label="Description" hint={descriptionHint} error={errorOf("description")}>
        <Textarea {...control("description", descriptionHint)} rows={8} />
      </Field>
      <div className="flex items-center gap-3">
        <Button type="submit" variant="primary" disabled={pending}>
          Save details
        </Button>
        <ActionMessage outcome={outcome} fieldsShown={["name", "description", "os", "osVersion", "arch"]} />
      </div>
    </form>
  );
}
