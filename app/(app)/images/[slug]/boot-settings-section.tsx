import { BootSettingsForm } from "@/components/boot-tests/boot-settings-form";
import { getBootSettings } from "@/db/queries/boot-tests";
import type { Viewer } from "@/db/queries/users";

/** The image page's boot test settings, for owners of its project and admins. */
export async function BootSettingsSection({ viewer, imageId }: { viewer: Viewer; imageId: string }) {
  const settings = await getBootSettings({ viewer, imageId });
  if (!settings) return null;
  return (
    <section aria-labelledby="boot-settings-title" className="rounded-lg border border-line bg-surface p-4">
      <h2 id="boot-settings-title" className="mb-2 text-base font-semibold">
        Boot test
      </h2>
      <BootSettingsForm imageId={imageId} required={settings.required} marker={settings.marker} />
    </section>
  );
}
