import Link from "next/link";
import type { CatalogFacets } from "@/db/queries/catalog";
import { architectures, diskFormats, releaseStatuses } from "@/db/enums";
import { Button } from "@/components/ui/button";
import { Input, Label, Select } from "@/components/ui/input";
import { releaseStatusLabel } from "@/components/ui/badge";
import { CATALOG_SEARCH_ID } from "@/components/shell/search-shortcut";
import type { CatalogParams } from "./catalog-url";
import { FilterAutoSubmit } from "./filter-auto-submit";

const FORM_ID = "catalog-filters";

interface Option {
  value: string;
  label: string;
}

function FilterSelect({
  name,
  label,
  value,
  options,
  anyLabel,
}: {
  name: string;
  label: string;
  value?: string;
  options: Option[];
  anyLabel: string;
}) {
  const id = `filter-${name}`;
  // A value from a shared link that is not among the options (a project you can't see) stays selectable.
  const known = !value || options.some((option) => option.value === value);
  return (
    <div className="min-w-0 space-y-1">
      <Label htmlFor={id}>{label}</Label>
      <Select id={id} name={name} defaultValue={value ?? ""}>
        {anyLabel ? <option value="">{anyLabel}</option> : null}
        {known ? null : <option value={value}>{value}</option>}
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </Select>
    </div>
  );
}

const plain = (values: readonly string[]): Option[] => values.map((value) => ({ value, label: value }));

export function CatalogFilters({
  params,
  facets,
  clearHref,
  containsError,
}: {
  params: CatalogParams;
  facets: CatalogFacets;
  clearHref: string | null;
  /** Why the "Contains package" condition was not applied. */
  containsError?: string;
}) {
  return (
    <form id={FORM_ID} method="get" action="/" role="search" aria-label="Catalog" className="mb-4 space-y-3">
      {params.view ? <input type="hidden" name="view" value={params.view} /> : null}
      <div className="flex items-end gap-2">
        <div className="min-w-0 flex-1 space-y-1">
          <Label htmlFor={CATALOG_SEARCH_ID}>Search images</Label>
          <div className="relative">
            <Input
              id={CATALOG_SEARCH_ID}
              name="q"
              type="search"
              defaultValue={params.q ?? ""}
              placeholder="Name, OS, tag or description"
              aria-keyshortcuts="/"
              autoComplete="off"
              className="pr-8"
            />
            <kbd
              aria-hidden="true"
              className="pointer-events-none absolute right-2 top-1/2 -translate-y-1/2 rounded border border-line px-1 text-xs text-muted"
            >
              /
            </kbd>
          </div>
        </div>
        <Button type="submit" variant="primary">
          Search
        </Button>
      </div>
      <div className="grid grid-cols-2 gap-2 sm:grid-cols-4 lg:grid-cols-9">
        <FilterSelect name="os" label="OS" value={params.os} options={plain(facets.oses)} anyLabel="Any" />
        <FilterSelect
          name="arch"
          label="Architecture"
          value={params.arch}
          options={plain(architectures)}
          anyLabel="Any"
        />
        <FilterSelect name="format" label="Format" value={params.format} options={plain(diskFormats)} anyLabel="Any" />
        <FilterSelect name="tag" label="Tag" value={params.tag} options={plain(facets.tags)} anyLabel="Any" />
        <FilterSelect
          name="project"
          label="Project"
          value={params.project}
          options={facets.projects.map((project) => ({ value: project.slug, label: project.name }))}
          anyLabel="Any"
        />
        <FilterSelect
          name="status"
          label="Status"
          value={params.status}
          options={releaseStatuses.map((status) => ({ value: status, label: releaseStatusLabel(status) }))}
          anyLabel="Any"
        />
        <FilterSelect
          name="freshness"
          label="Freshness"
          value={params.freshness}
          options={[{ value: "out_of_date", label: "Out of date" }]}
          anyLabel="Any"
        />
        <FilterSelect
          name="sort"
          label="Sort by"
          value={params.sort}
          options={[
            { value: "name", label: "Name" },
            { value: "size", label: "Size" },
            { value: "usage", label: "Most used" },
          ]}
          anyLabel="Updated"
        />
        <FilterSelect
          name="order"
          label="Order"
          value={params.order}
          options={[
            { value: "asc", label: "Ascending" },
            { value: "desc", label: "Descending" },
          ]}
          anyLabel="Default"
        />
      </div>
      <div className="grid grid-cols-2 gap-2 sm:grid-cols-4">
        <FilterSelect
          name="distro"
          label="Detected OS"
          value={params.distro}
          options={plain(facets.detectedDistros)}
          anyLabel="Any"
        />
        <FilterSelect
          name="detectedArch"
          label="Detected arch"
          value={params.detectedArch}
          options={plain(facets.detectedArches)}
          anyLabel="Any"
        />
        <div className="col-span-2 min-w-0 space-y-1">
          <Label htmlFor="filter-contains">Contains package</Label>
          <Input
            id="filter-contains"
            name="contains"
            type="text"
            defaultValue={params.contains ?? ""}
            placeholder="openssl < 3.0.14"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={containsError ? true : undefined}
            aria-describedby={containsError ? "filter-contains-error" : "filter-contains-hint"}
          />
          {containsError ? (
            <p id="filter-contains-error" role="alert" className="text-xs text-danger">
              {containsError} The results below ignore this filter.
            </p>
          ) : (
            <p id="filter-contains-hint" className="text-xs text-muted">
              A package name, optionally with =, &lt;, &lt;=, &gt; or &gt;= and a version; press Enter to apply. For
              Debian packages a version without a revision means revision “”, so openssl = 3.0.14 does not match
              3.0.14-1 (use &gt;=).{" "}
              {params.contains ? (
                <Link href={`/packages?${new URLSearchParams({ q: params.contains })}`}>Where does it occur?</Link>
              ) : null}
            </p>
          )}
        </div>
      </div>
      {clearHref ? (
        <p className="text-xs">
          <Link href={clearHref}>Clear search and filters</Link>
        </p>
      ) : null}
      <FilterAutoSubmit formId={FORM_ID} />
    </form>
  );
}
