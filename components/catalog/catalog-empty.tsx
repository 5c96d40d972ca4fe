import Link from "next/link";
import type { ReactNode } from "react";
import type { CatalogSearch } from "@/lib/validations/images";
import { catalogHref, filterParams } from "./catalog-url";

function EmptyPanel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-line-strong bg-surface px-6 py-10 text-center">
      <h2 className="font-semibold">{title}</h2>
      <div className="mx-auto mt-1 max-w-prose text-muted">{children}</div>
    </div>
  );
}

export function NoMatches({ search }: { search: CatalogSearch }) {
  const params = filterParams(search);
  const noun = search.view === "versions" ? "versions" : "images";
  const filterCount = [
    search.os,
    search.arch,
    search.format,
    search.tag,
    search.project,
    search.status,
    search.distro,
    search.detectedArch,
    search.contains,
  ].filter(Boolean).length;
  return (
    <EmptyPanel title={search.q ? `No ${noun} match “${search.q}”` : `No ${noun} match these filters`}>
      <p>
        {search.q ? (
          <>
            <Link href={catalogHref({ ...params, q: undefined })}>Clear the search</Link>
            {filterCount ? " or remove a filter" : " to see everything"}.
          </>
        ) : (
          <>
            Remove a filter, or <Link href={catalogHref({ view: params.view })}>clear all filters</Link>.
          </>
        )}
        {search.q && filterCount ? (
          <>
            {" "}
            <Link href={catalogHref({ view: params.view })}>Clear everything</Link>.
          </>
        ) : null}
      </p>
    </EmptyPanel>
  );
}

export function EmptyCatalog() {
  return (
    <EmptyPanel title="The catalog is empty">
      <p>
        <Link href="/import">Import an image</Link> to start it, or ask an admin to add you to a project whose images
        you need.
      </p>
    </EmptyPanel>
  );
}

export function InvalidSearch({ issues }: { issues: { param: string; message: string }[] }) {
  return (
    <section aria-labelledby="invalid-search-title" className="rounded-lg border border-line bg-surface p-5">
      <h2 id="invalid-search-title" className="font-semibold">
        This catalog link has values Hangar doesn't understand
      </h2>
      <ul className="mt-2 list-disc space-y-1 pl-5 text-muted">
        {issues.map((issue) => (
          <li key={`${issue.param}:${issue.message}`}>
            <code className="text-fg">{issue.param}</code>: {issue.message}
          </li>
        ))}
      </ul>
      <p className="mt-3">
        <Link href="/" className="font-medium">
          Reset filters
        </Link>
      </p>
    </section>
  );
}
