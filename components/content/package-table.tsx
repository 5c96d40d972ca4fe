"use client";

import Link from "next/link";
import { useDeferredValue, useMemo, useState } from "react";
import { Input, Label } from "@/components/ui/input";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import type { ContentPackageListRow } from "@/db/queries/content";

type SortKey = "name" | "version" | "arch";

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** A version's installed packages: filter by name or version, sort by any column, with a live count. */
export function PackageTable({ packages, caption }: { packages: ContentPackageListRow[]; caption: string }) {
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: "name", descending: false });
  const deferred = useDeferredValue(filter.trim().toLowerCase());
  const rows = useMemo(() => {
    const matching = deferred
      ? packages.filter(
          (pkg) => pkg.name.toLowerCase().includes(deferred) || pkg.version.toLowerCase().includes(deferred),
        )
      : packages;
    const sorted = [...matching].sort(
      (a, b) => collator.compare(a[sort.key], b[sort.key]) || collator.compare(a.name, b.name),
    );
    return sort.descending ? sorted.reverse() : sorted;
  }, [packages, deferred, sort]);

  const header = (key: SortKey, label: string) => {
    const active = sort.key === key;
    return (
      <Th aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}>
        <button
          type="button"
          className="inline-flex items-center gap-1 font-semibold hover:text-fg"
          onClick={() => setSort({ key, descending: active ? !sort.descending : false })}
        >
          {label}
          <span aria-hidden="true">{active ? (sort.descending ? "▼" : "▲") : "↕"}</span>
          <span className="sr-only">
            {active ? `, sorted ${sort.descending ? "descending" : "ascending"}; ` : ", "}sort
          </span>
        </button>
      </Th>
    );
  };

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="w-full max-w-xs space-y-1">
          <Label htmlFor="package-filter">Filter packages</Label>
          <Input
            id="package-filter"
            type="search"
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
            placeholder="Name or version"
            autoComplete="off"
            spellCheck={false}
            aria-controls="package-table"
          />
        </div>
        <p role="status" aria-live="polite" className="text-sm text-muted">
          {rows.length === packages.length
            ? `${packages.length} package${packages.length === 1 ? "" : "s"}`
            : `${rows.length} of ${packages.length} packages match`}
        </p>
      </div>
      <div className="max-h-[32rem] overflow-y-auto rounded-lg">
        <Table id="package-table">
          <caption className="sr-only">{caption}</caption>
          <thead className="sticky top-0">
            <tr>
              {header("name", "Name")}
              {header("version", "Version")}
              <Th>Epoch</Th>
              <Th>Release</Th>
              {header("arch", "Architecture")}
            </tr>
          </thead>
          <tbody>
            {rows.map((pkg, index) => (
              <Tr key={`${pkg.name}:${pkg.arch}:${index}`}>
                <Td>
                  <Link href={`/packages/${encodeURIComponent(pkg.name)}`}>{pkg.name}</Link>
                </Td>
                <Td className="font-mono text-xs">{pkg.version}</Td>
                <Td>{pkg.epoch || "—"}</Td>
                <Td className="font-mono text-xs">{pkg.release || "—"}</Td>
                <Td>{pkg.arch || "—"}</Td>
              </Tr>
            ))}
            {rows.length === 0 ? (
              <Tr>
                <Td colSpan={5} className="text-muted">
                  No package matches “{filter.trim()}”.
                </Td>
              </Tr>
            ) : null}
          </tbody>
        </Table>
      </div>
    </div>
  );
}
