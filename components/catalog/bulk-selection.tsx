"use client";

import { createContext, useContext, useId, useState, type ReactNode } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
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

const plural = (count: number) => `${count} image${count === 1 ? "" : "s"}`;

export function BulkTagBar() {
  const { selected, clear } = useSelection();
  const inputId = useId();
  const [tag, setTag] = useState("");
  const action = useServerAction();
  const { pending, outcome } = action;
  const count = selected.size;

  const run = (op: "add" | "remove") =>
    action.run(() => changeTagServerAction({ imageIds: [...selected], tag, op }), {
      success: ({ changed, tag: applied }) => {
        const unchanged = count - changed;
        const verb =
          op === "add"
            ? `Added tag “${applied}” to ${plural(changed)}`
            : `Removed tag “${applied}” from ${plural(changed)}`;
        const rest =
          unchanged > 0 ? ` (${plural(unchanged)} ${op === "add" ? "already had it" : "did not have it"})` : "";
        return `${verb}${rest}.`;
      },
      onSuccess: () => {
        setTag("");
        clear();
      },
    });

  if (count === 0 && !outcome) return <div role="status" className="sr-only" />;

  return (
    <>
      {/* As tall as the bar and its margin, so the last rows can be scrolled out from under it. */}
      <div aria-hidden="true" className="h-40" />
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
          <ActionMessage outcome={outcome} />
          {count === 0 && outcome ? (
            <Button variant="ghost" size="sm" onClick={action.clear}>
              Dismiss
            </Button>
          ) : null}
        </div>
      </div>
    </>
  );
}
