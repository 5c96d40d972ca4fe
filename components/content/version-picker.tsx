import { Button } from "@/components/ui/button";
import { Label, Select } from "@/components/ui/input";
import type { PickableVersion } from "@/db/queries/content";

function VersionSelect({
  name,
  label,
  value,
  versions,
}: {
  name: string;
  label: string;
  value?: string;
  versions: PickableVersion[];
}) {
  const groups = new Map<string, PickableVersion[]>();
  for (const version of versions) {
    const key = `${version.imageName} (${version.imageSlug})`;
    groups.set(key, [...(groups.get(key) ?? []), version]);
  }
  return (
    <div className="min-w-0 flex-1 space-y-1">
      <Label htmlFor={`compare-${name}`}>{label}</Label>
      <Select id={`compare-${name}`} name={name} defaultValue={value ?? ""} required>
        <option value="" disabled>
          Choose a version
        </option>
        {[...groups].map(([group, items]) => (
          <optgroup key={group} label={group}>
            {items.map((version) => (
              <option key={version.id} value={version.id}>
                {version.imageSlug} {version.version}
              </option>
            ))}
          </optgroup>
        ))}
      </Select>
    </div>
  );
}

/** Two versions the viewer may see, as a plain GET form: the compare page's URL is its state. */
export function VersionPicker({ versions, from, to }: { versions: PickableVersion[]; from?: string; to?: string }) {
  return (
    <form
      method="get"
      action="/compare"
      aria-label="Choose versions to compare"
      className="flex flex-wrap items-end gap-2"
    >
      <VersionSelect name="from" label="From (older)" value={from} versions={versions} />
      <VersionSelect name="to" label="To (newer)" value={to} versions={versions} />
      <Button type="submit" variant="primary">
        Compare
      </Button>
    </form>
  );
}
