"use client";

import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { updateBootSettingsServerAction } from "@/lib/actions/boot-tests";

/** An image's boot test settings (owners and admins): require a pass before approval, and the success marker. */
export function BootSettingsForm({
  imageId,
  required,
  marker,
}: {
  imageId: string;
  required: boolean;
  marker: string | null;
}) {
  const ids = { required: useId(), marker: useId() };
  const [require, setRequire] = useState(required);
  const [text, setText] = useState(marker ?? "");
  const { pending, run, outcome, fieldError } = useServerAction();
  const hint = "A line the image prints on its serial console once it is up. Empty: a login prompt counts.";
  return (
    <form
      className="space-y-2"
      aria-label="Boot test settings"
      onSubmit={(event) => {
        event.preventDefault();
        run(() => updateBootSettingsServerAction({ imageId, required: require, marker: text }), {
          success: (data) =>
            `Saved: ${data.required ? "a passing boot test is required before approval" : "no boot test required"}; success is ${data.marker ? `the line “${data.marker}”` : "a login prompt"}.`,
        });
      }}
    >
      <label htmlFor={ids.required} className="flex items-center gap-2 text-sm">
        <input
          id={ids.required}
          type="checkbox"
          checked={require}
          onChange={(event) => setRequire(event.target.checked)}
        />
        Require a passing boot test before approval
      </label>
      <Field id={ids.marker} label="Boot success marker" hint={hint} error={fieldError("marker")}>
        <Input
          {...describedBy(ids.marker, { hint, error: fieldError("marker") })}
          value={text}
          maxLength={200}
          placeholder="(a login prompt)"
          onChange={(event) => setText(event.target.value)}
        />
      </Field>
      <Button type="submit" disabled={pending || (require === required && text === (marker ?? ""))}>
        Save
      </Button>
      <ActionMessage outcome={outcome} />
    </form>
  );
}
