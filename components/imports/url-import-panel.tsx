"use client";

import Link from "next/link";
import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { startUrlImportServerAction } from "@/lib/actions/imports";
import { startUrlImportSchema } from "@/lib/validations/imports";
import { ClaimedFormatField } from "./claimed-format-field";
import { useVersionProgress, VersionProgressBar } from "./version-progress";

function ImportProgress({ versionId, imageName }: { versionId: string; imageName: string }) {
  const progress = useVersionProgress(versionId);
  const data = progress.data;
  if (!data) return <p className="text-sm text-muted">Queued…</p>;
  if (data.dataStatus === "failed") {
    return (
      <p role="alert" className="rounded-md border border-danger bg-danger-soft p-3 text-sm text-danger">
        {data.failureReason ?? "The import failed."}
      </p>
    );
  }
  if (data.dataStatus === "ready") {
    return (
      <p role="status" className="text-sm text-success">
        Imported: version {data.version} ({data.format}) of{" "}
        <Link href={`/images/${data.imageSlug}`} className="font-medium underline">
          {imageName}
        </Link>{" "}
        passed inspection and is stored.
      </p>
    );
  }
  return <VersionProgressBar progress={data} label="URL import progress" activity="Downloading and inspecting…" />;
}

export function UrlImportPanel({
  imageId,
  imageName,
  suggestedVersion,
}: {
  imageId: string;
  imageName: string;
  suggestedVersion: string;
}) {
  const ids = { url: useId(), version: useId(), format: useId(), sha: useId() };
  const { pending, run, check, outcome, fieldError } = useServerAction();
  const [versionId, setVersionId] = useState<string | null>(null);

  const submit = (form: FormData) => {
    const input = {
      imageId,
      url: String(form.get("url") ?? ""),
      version: String(form.get("version") ?? ""),
      format: String(form.get("format") ?? "detect"),
      sha256: String(form.get("sha256") ?? ""),
    };
    if (!check(startUrlImportSchema, input)) return;
    run(() => startUrlImportServerAction(input), {
      refresh: false,
      onSuccess: (data) => setVersionId(data.versionId),
    });
  };

  return (
    <>
      <form action={submit} className="space-y-4">
        <Field
          id={ids.url}
          label="Image URL"
          error={fieldError("url")}
          hint="A public http:// or https:// link to the disk image file."
        >
          <Input
            {...describedBy(ids.url, {
              error: fieldError("url"),
              hint: "A public http:// or https:// link to the disk image file.",
            })}
            name="url"
            type="url"
            required
            placeholder="https://cloud.example.org/images/debian-12.qcow2"
          />
        </Field>
        <div className="grid gap-3 sm:grid-cols-3">
          <Field id={ids.version} label="Version" error={fieldError("version")}>
            <Input
              {...describedBy(ids.version, { error: fieldError("version") })}
              name="version"
              defaultValue={suggestedVersion}
              required
            />
          </Field>
          <ClaimedFormatField id={ids.format} name="format" defaultValue="detect" />
          <Field id={ids.sha} label="Expected sha256 (optional)" error={fieldError("sha256")}>
            <Input
              {...describedBy(ids.sha, { error: fieldError("sha256") })}
              name="sha256"
              className="font-mono"
              spellCheck={false}
            />
          </Field>
        </div>
        <Button type="submit" variant="primary" disabled={pending}>
          {pending ? "Starting…" : "Import from URL"}
        </Button>
        <ActionMessage outcome={outcome} />
      </form>
      {versionId ? (
        <div className="mt-4">
          <ImportProgress versionId={versionId} imageName={imageName} />
        </div>
      ) : null}
    </>
  );
}
