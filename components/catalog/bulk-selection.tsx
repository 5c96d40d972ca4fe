"use client";

import { useRouter } from "next/navigation";
import { createContext, useContext, useId, useState, useTransition, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { changeTagServerAction } from "@/lib/actions/images";

interface Selection {
  pageIds: string[];
  selected: ReadonlySet<string>;
  toggle: (id: string, on: boolean) => void;
  setAll: (on: boolean) => void;
  clear: () => void;
}

const SelectionContext = createContext<Selection | null>(null);

function useSelection(): Selection {
  const selection = useContext(SelectionContext);
  if (!selection) throw new Error("useSelection needs a BulkSelection around it");
  return selection;
}

/** Holds which rows of the current page are checked; the page is server-rendered around it. */
export function BulkSelection({ pageIds, children }: { pageIds: string[]; children: ReactNode }) {
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const value: Selection = {
    pageIds,
    selected,
    toggle: (id, on) =>
      setSelected((current) => {
        const next = new Set(current);
        if (on) next.add(id);
        else next.delete(id);
        return next;
      }),
    setAll: (on) => setSelected(on ? new Set(pageIds) : new Set()),
    clear: () => setSelected(new Set()),
  };
  return <SelectionContext value={value}>{children}</SelectionContext>;
}

const checkboxClass = "size-4 accent-[var(--accent)] align-middle";

export function RowCheckbox({ id, name }: { id: string; name: string }) {
  const { selected, toggle } = useSelection();
  return (
    <input
      type="checkbox"
      aria-label={`Select ${name}`}
      checked={selected.has(id)}
      onChange={(event) => toggle(id, event.target.checked)}
      className={checkboxClass}
    />
  );
}

export function SelectAllCheckbox() {
  const { selected, pageIds, setAll } = useSelection();
  const all = pageIds.length > 0 && pageIds.every((id) => selected.has(id));
  return (
    <input
      type="checkbox"
      aria-label="Select all images on this page"
      checked={all}
      ref={(element) => {
        if (element) element.indeterminate = selected.size > 0 && !all;
      }}
      onChange={(event) => setAll(event.target.checked)}
      className={checkboxClass}
    />
  );
}

type Outcome = { kind: "success"; text: string } | { kind: "error"; text: string } | null;

const plural = (count: number) => `${count} image${count === 1 ? "" : "s"}`;

export function BulkTagBar() {
  const { selected, clear } = useSelection();
  const router = useRouter();
  const inputId = useId();
  const [tag, setTag] = useState("");
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [pending, startTransition] = useTransition();
  const count = selected.size;

  const run = (op: "add" | "remove") => {
    setOutcome(null);
    startTransition(async () => {
      const result = await changeTagServerAction({ imageIds: [...selected], tag, op });
      if (!result.ok) {
        setOutcome({ kind: "error", text: result.message });
        return;
      }
      const { changed, tag: applied } = result.data;
      const unchanged = count - changed;
      const verb = op === "add" ? `Added tag “${applied}” to ${plural(changed)}` : `Removed tag “${applied}” from ${plural(changed)}`;
      const rest = unchanged > 0 ? ` (${plural(unchanged)} ${op === "add" ? "already had it" : "did not have it"})` : "";
      setOutcome({ kind: "success", text: `${verb}${rest}.` });
      setTag("");
      clear();
      router.refresh();
    });
  };

  if (count === 0 && !outcome) return <div role="status" className="sr-only" />;

  return (
    <div className="fixed inset-x-0 bottom-4 z-20 flex justify-center px-4">
      <div className="flex max-w-3xl flex-wrap items-center gap-x-3 gap-y-2 rounded-lg border border-line-strong bg-surface px-4 py-2.5 shadow-lg">
        {count > 0 ? (
          <form
            className="flex flex-wrap items-center gap-2"
            onSubmit={(event) => {
              event.preventDefault();
              run("add");
            }}
          >
            <span className="font-medium">{count} selected</span>
            <label htmlFor={inputId} className="sr-only">
              Tag for selected images
            </label>
            <Input
              id={inputId}
              value={tag}
              onChange={(event) => setTag(event.target.value)}
              placeholder="tag"
              autoComplete="off"
              className="w-40"
            />
            <Button type="submit" variant="primary" size="sm" disabled={pending || !tag.trim()}>
              Add tag
            </Button>
            <Button size="sm" disabled={pending || !tag.trim()} onClick={() => run("remove")}>
              Remove tag
            </Button>
            <Button variant="ghost" size="sm" onClick={clear}>
              Clear selection
            </Button>
          </form>
        ) : null}
        <p role="status" className="text-sm text-success">
          {outcome?.kind === "success" ? outcome.text : null}
        </p>
        {outcome?.kind === "error" ? (
          <p role="alert" className="text-sm text-danger">
            {outcome.text}
          </p>
        ) : null}
        {count === 0 && outcome ? (
          <Button variant="ghost" size="sm" onClick={() => setOutcome(null)}>
            Dismiss
          </Button>
        ) : null}
      </div>
    </div>
  );
}
