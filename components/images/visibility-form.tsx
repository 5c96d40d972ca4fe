"use client";

import { useId, useState } from "react";
import { visibilities, type Visibility } from "@/db/enums";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { humanize } from "@/components/ui/format";
import { Label, Select } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { setVisibilityServerAction } from "@/lib/actions/images";

const explanations: Record<Visibility, string> = {
  private: "Only members of its project can see it.",
  shared: "Its project and the projects it is shared with can see it.",
  public: "Everyone who signs in can see it.",
};

export function VisibilityForm({ imageId, visibility }: { imageId: string; visibility: Visibility }) {
  const id = useId();
  const [choice, setChoice] = useState<Visibility>(visibility);
  const { pending, outcome, run } = useServerAction();
  return (
    <form
      className="space-y-2"
      onSubmit={(event) => {
        event.preventDefault();
        run(() => setVisibilityServerAction({ imageId, visibility: choice }), {
          success: (data) => `Visibility is now ${data.visibility}.`,
        });
      }}
    >
      <Label htmlFor={id}>Visibility</Label>
      <div className="flex gap-2">
        <Select
          id={id}
          value={choice}
          aria-describedby={`${id}-hint`}
          onChange={(event) => setChoice(event.target.value as Visibility)}
        >
          {visibilities.map((value) => (
            <option key={value} value={value}>
              {humanize(value)}
            </option>
          ))}
        </Select>
        <Button type="submit" disabled={pending || choice === visibility}>
          Save
        </Button>
      </div>
      <p id={`${id}-hint`} className="text-xs text-muted">
        {explanations[choice]}
      </p>
      <ActionMessage outcome={outcome} />
    </form>
  );
}
