"use client";

import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input } from "@/components/ui/input";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { useServerAction } from "@/components/ui/use-server-action";
import {
  previewRetentionServerAction,
  runRetentionServerAction,
  setRetentionRuleServerAction,
} from "@/lib/actions/retention";
import type { RetentionChange } from "@/lib/retention/plan";

interface RuleValues {
  keepNewestApproved: number | null;
  deprecateAfterDays: number | null;
  deleteDeprecatedAfterDays: number | null;
  enabled: boolean;
}

type Row = RetentionChange & { outcome?: string };

const changeWords: Record<RetentionChange["kind"], string> = {
  deprecate: "Deprecate",
  delete: "Delete",
  "refused-delete": "Keep (deletion refused)",
};

const statusWords: Record<string, string> = { approved: "Approved", deprecated: "Deprecated" };

const fields = [
  {
    name: "keepNewestApproved",
    label: "Keep the newest approved versions",
    hint: "This many of the newest approved versions are never touched. Empty: no such protection.",
  },
  {
    name: "deprecateAfterDays",
    label: "Deprecate approved versions after (days)",
    hint: "Deprecate an approved version this many days after its approval, once a newer approved version exists. Empty: never.",
  },
  {
    name: "deleteDeprecatedAfterDays",
    label: "Delete deprecated versions after (days)",
    hint: "Delete a version this many days after it was deprecated, unless anything depends on it. Empty: never.",
  },
] as const;

const asText = (value: number | null) => (value === null ? "" : String(value));

/** An image's retention rule: edit and save it, preview exactly what it would change, or run it now. */
export function RetentionForm({
  imageId,
  saved,
  lastRun,
}: {
  imageId: string;
  saved: RuleValues;
  lastRun: { at: string; summary: string } | null;
}) {
  const ids = {
    enabled: useId(),
    keepNewestApproved: useId(),
    deprecateAfterDays: useId(),
    deleteDeprecatedAfterDays: useId(),
  };
  const [values, setValues] = useState({
    keepNewestApproved: asText(saved.keepNewestApproved),
    deprecateAfterDays: asText(saved.deprecateAfterDays),
    deleteDeprecatedAfterDays: asText(saved.deleteDeprecatedAfterDays),
  });
  const [enabled, setEnabled] = useState(saved.enabled);
  const [rows, setRows] = useState<{ title: string; changes: Row[] } | null>(null);
  const { pending, run, outcome, fieldError } = useServerAction();
  const input = { imageId, ...values };

  return (
    <form
      className="space-y-3"
      aria-label="Retention rule"
      onSubmit={(event) => {
        event.preventDefault();
        run(() => setRetentionRuleServerAction({ ...input, enabled }), {
          success: (data) => `Saved; the rule ${data.enabled ? "runs daily" : "is off (it runs only with Run now)"}.`,
        });
      }}
    >
      <label htmlFor={ids.enabled} className="flex items-center gap-2 text-sm">
        <input
          id={ids.enabled}
          type="checkbox"
          checked={enabled}
          onChange={(event) => setEnabled(event.target.checked)}
        />
        Run this rule daily
      </label>
      {fields.map((field) => (
        <Field
          key={field.name}
          id={ids[field.name]}
          label={field.label}
          hint={field.hint}
          error={fieldError(field.name)}
        >
          <Input
            {...describedBy(ids[field.name], { hint: field.hint, error: fieldError(field.name) })}
            type="number"
            inputMode="numeric"
            min={1}
            step={1}
            value={values[field.name]}
            onChange={(event) => setValues((current) => ({ ...current, [field.name]: event.target.value }))}
          />
        </Field>
      ))}
      <div className="flex flex-wrap gap-2">
        <Button type="submit" disabled={pending}>
          Save
        </Button>
        <Button
          variant="secondary"
          disabled={pending}
          onClick={() =>
            run(() => previewRetentionServerAction(input), {
              refresh: false,
              success: (changes) =>
                changes.length
                  ? `Preview: ${changes.length} change(s) listed below; nothing was changed.`
                  : "Preview: nothing would change.",
              onSuccess: (changes) => setRows({ title: "What this rule would change now", changes }),
            })
          }
        >
          Preview
        </Button>
        <Button
          variant="danger"
          disabled={pending}
          onClick={() => {
            if (!window.confirm("Run the saved rule now? Versions it deprecates or deletes are changed at once."))
              return;
            run(() => runRetentionServerAction({ imageId }), {
              success: (data) =>
                `Ran the saved rule: ${data.summary.deprecated} deprecated, ${data.summary.deleted} deleted, ${data.summary.refused} kept because something depends on it${data.summary.failed ? `, ${data.summary.failed} not applied` : ""}.`,
              onSuccess: (data) => setRows({ title: "What the run changed", changes: data.changes }),
            });
          }}
        >
          Run now
        </Button>
      </div>
      <ActionMessage outcome={outcome} fieldsShown={fields.map((field) => field.name)} />
      <p className="text-sm text-muted">
        {lastRun ? `Last run ${lastRun.at}: ${lastRun.summary}.` : "This rule has not run yet."}
      </p>
      {rows && rows.changes.length ? (
        <Table label={rows.title}>
          <thead>
            <tr>
              <Th>Version</Th>
              <Th>Current status</Th>
              <Th>Change</Th>
              <Th>Reason</Th>
              {rows.changes.some((row) => row.outcome) ? <Th>Outcome</Th> : null}
            </tr>
          </thead>
          <tbody>
            {rows.changes.map((row) => (
              <Tr key={`${row.kind}-${row.versionId}`}>
                <Td className="font-mono">{row.version}</Td>
                <Td>{statusWords[row.from] ?? row.from}</Td>
                <Td>{changeWords[row.kind]}</Td>
                <Td className="whitespace-normal">{row.reason}</Td>
                {row.outcome ? <Td>{row.outcome}</Td> : null}
              </Tr>
            ))}
          </tbody>
        </Table>
      ) : null}
    </form>
  );
}
