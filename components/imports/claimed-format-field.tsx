import type { SelectHTMLAttributes } from "react";
import { describedBy, Field, Select } from "@/components/ui/input";
import { diskFormats } from "@/db/enums";

const hint = "Detect reads it from the file.";

/** The format a file claims to be; "detect" leaves it to the inspector. */
export function ClaimedFormatField({ id, ...props }: { id: string } & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <Field id={id} label="Format" hint={hint}>
      <Select {...describedBy(id, { hint })} {...props}>
        <option value="detect">Detect</option>
        {diskFormats.map((value) => (
          <option key={value} value={value}>
            {value}
          </option>
        ))}
      </Select>
    </Field>
  );
}
