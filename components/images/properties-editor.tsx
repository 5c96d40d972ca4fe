"use client";

import { useId, useState, type ReactNode } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input } from "@/components/ui/input";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { useServerAction } from "@/components/ui/use-server-action";
import { removePropertyServerAction, setPropertyServerAction } from "@/lib/actions/images";
import { setPropertySchema } from "@/lib/validations/images";

type Properties = [string, string][];

export function PropertiesTable({
  properties,
  actions,
}: {
  properties: Properties;
  actions?: (key: string, value: string) => ReactNode;
}) {
  if (!properties.length) return <p className="text-muted">No properties.</p>;
  return (
    <Table label="Properties">
      <thead>
        <tr>
          <Th>Key</Th>
          <Th>Value</Th>
          {actions ? (
            <Th>
              <span className="sr-only">Actions</span>
            </Th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {properties.map(([key, value]) => (
          <Tr key={key}>
            <Td className="whitespace-nowrap">
              <code>{key}</code>
            </Td>
            <Td className="break-all">{value}</Td>
            {actions ? <Td className="w-1 whitespace-nowrap text-right">{actions(key, value)}</Td> : null}
          </Tr>
        ))}
      </tbody>
    </Table>
  );
}

export function PropertiesEditor({ imageId, properties }: { imageId: string; properties: Properties }) {
  const formId = useId();
  const { pending, outcome, run, check, fieldError } = useServerAction();
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const editing = properties.some(([existing]) => existing === key.trim());

  const save = () => {
    if (!check(setPropertySchema, { imageId, key, value })) return;
    run(() => setPropertyServerAction({ imageId, key, value }), {
      success: (data) => `Saved property ${data.key}.`,
      onSuccess: () => {
        setKey("");
        setValue("");
      },
    });
  };

  return (
    <div className="space-y-3">
      <PropertiesTable
        properties={properties}
        actions={(name, current) => (
          <span className="inline-flex gap-1">
            <Button
              size="sm"
              variant="ghost"
              aria-label={`Edit property ${name}`}
              onClick={() => {
                setKey(name);
                setValue(current);
                document.getElementById(`${formId}-value`)?.focus();
              }}
            >
              Edit
            </Button>
            <Button
              size="sm"
              variant="ghost"
              aria-label={`Remove property ${name}`}
              disabled={pending}
              onClick={() =>
                run(() => removePropertyServerAction({ imageId, key: name }), {
                  success: (data) => `Removed property ${data.key}.`,
                })
              }
              className="text-danger"
            >
              Remove
            </Button>
          </span>
        )}
      />
      <form
        className="flex flex-wrap items-end gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          save();
        }}
      >
        <Field id={`${formId}-key`} label="Property key" error={fieldError("key")} className="w-48">
          <Input
            {...describedBy(`${formId}-key`, { error: fieldError("key") })}
            value={key}
            onChange={(event) => setKey(event.target.value)}
            autoComplete="off"
            placeholder="e.g. hw_disk_bus"
          />
        </Field>
        <Field id={`${formId}-value`} label="Property value" error={fieldError("value")} className="min-w-48 flex-1">
          <Input
            {...describedBy(`${formId}-value`, { error: fieldError("value") })}
            value={value}
            onChange={(event) => setValue(event.target.value)}
            autoComplete="off"
            placeholder="e.g. virtio"
          />
        </Field>
        <Button type="submit" disabled={pending || !key.trim()}>
          {editing ? "Save property" : "Add property"}
        </Button>
      </form>
      <ActionMessage outcome={outcome} fieldsShown={["key", "value"]} />
    </div>
  );
}
