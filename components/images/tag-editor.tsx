"use client";

import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { tagKeys } from "@/components/ui/query-keys";
import { useServerAction } from "@/components/ui/use-server-action";
import { changeTagServerAction } from "@/lib/actions/images";

async function fetchSuggestions(prefix: string, signal: AbortSignal): Promise<string[]> {
  const response = await fetch(`/api/tags?prefix=${encodeURIComponent(prefix)}`, { signal });
  if (!response.ok) throw new Error(`tag suggestions failed with ${response.status}`);
  const body = (await response.json()) as { tags: string[] };
  return body.tags;
}

function useDebounced<T>(value: T, delay: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return debounced;
}

export function TagEditor({ imageId, imageName, tags }: { imageId: string; imageName: string; tags: string[] }) {
  const inputId = useId();
  const listId = useId();
  const queryClient = useQueryClient();
  const { pending, outcome, run } = useServerAction();
  const [draft, setDraft] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const prefix = useDebounced(draft.trim().toLowerCase(), 120);

  const suggestions = useQuery({
    queryKey: tagKeys.suggestions(prefix),
    queryFn: ({ signal }) => fetchSuggestions(prefix, signal),
    enabled: prefix.length > 0,
    placeholderData: keepPreviousData,
    // Suggestions change rarely and a miss costs nothing: one retry, no refetch on focus.
    staleTime: 30_000,
    retry: 1,
    refetchOnWindowFocus: false,
  });
  const options = (suggestions.data ?? []).filter((tag) => !tags.includes(tag));
  const expanded = open && prefix.length > 0 && options.length > 0;

  const change = (tag: string, op: "add" | "remove") =>
    run(() => changeTagServerAction({ imageIds: [imageId], tag, op }), {
      success: (data) => (op === "add" ? `Added tag “${data.tag}”.` : `Removed tag “${data.tag}”.`),
      onSuccess: () => {
        if (op === "add") {
          setDraft("");
          void queryClient.invalidateQueries({ queryKey: tagKeys.all });
        }
      },
    });

  const choose = (tag: string) => {
    setDraft(tag);
    setOpen(false);
    setActive(-1);
  };

  return (
    <div className="space-y-3">
      {tags.length ? (
        <ul aria-label={`Tags of ${imageName}`} className="flex flex-wrap gap-1.5">
          {tags.map((tag) => (
            <li key={tag} className="inline-flex items-center rounded border border-line bg-raised pl-2 text-sm">
              {tag}
              <button
                type="button"
                aria-label={`Remove tag ${tag}`}
                disabled={pending}
                onClick={() => change(tag, "remove")}
                className="ml-1 grid size-6 place-items-center rounded-r text-muted hover:bg-danger-soft hover:text-danger"
              >
                <span aria-hidden="true">×</span>
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-muted">No tags yet.</p>
      )}
      <form
        className="flex items-start gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          if (expanded && active >= 0 && options[active]) return choose(options[active]);
          change(draft, "add");
        }}
      >
        <div className="relative w-64">
          <label htmlFor={inputId} className="sr-only">
            Add a tag
          </label>
          <Input
            id={inputId}
            role="combobox"
            aria-autocomplete="list"
            aria-expanded={expanded}
            aria-controls={listId}
            aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
            value={draft}
            placeholder="Add a tag"
            autoComplete="off"
            onChange={(event) => {
              setDraft(event.target.value);
              setOpen(true);
              setActive(-1);
            }}
            onBlur={() => setOpen(false)}
            onKeyDown={(event) => {
              if (event.key === "ArrowDown" && options.length) {
                event.preventDefault();
                setOpen(true);
                setActive((index) => (index + 1) % options.length);
              } else if (event.key === "ArrowUp" && options.length) {
                event.preventDefault();
                setActive((index) => (index <= 0 ? options.length - 1 : index - 1));
              } else if (event.key === "Escape") {
                setOpen(false);
              }
            }}
          />
          <ul
            id={listId}
            role="listbox"
            aria-label="Existing tags"
            hidden={!expanded}
            className="absolute z-10 mt-1 max-h-56 w-full overflow-auto rounded-md border border-line bg-surface py-1 shadow-lg"
          >
            {options.map((tag, index) => (
              <li
                key={tag}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === active}
                // Choosing must happen before the input's blur closes the list.
                onMouseDown={(event) => {
                  event.preventDefault();
                  choose(tag);
                }}
                className={`cursor-pointer px-2.5 py-1 text-sm ${index === active ? "bg-accent-soft text-accent-strong" : "hover:bg-raised"}`}
              >
                {tag}
              </li>
            ))}
          </ul>
        </div>
        <Button type="submit" variant="primary" disabled={pending || !draft.trim()}>
          Add
        </Button>
      </form>
      <ActionMessage outcome={outcome} />
    </div>
  );
}
