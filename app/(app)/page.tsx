import type { Metadata } from "next";
import Link from "next/link";
import {
  defaultOrder,
  getCatalogFacets,
  listCatalogImages,
  listCatalogVersions,
  type CatalogQuery,
} from "@/db/queries/catalog";
import { CatalogFilters } from "@/components/catalog/catalog-filters";
import { EmptyCatalog, InvalidSearch, NoMatches } from "@/components/catalog/catalog-empty";
import { Pagination, ViewToggle } from "@/components/catalog/catalog-nav";
import { catalogHref, filterParams, hasFilters, type CatalogParams } from "@/components/catalog/catalog-url";
import { ImagesTable } from "@/components/catalog/images-table";
import { VersionsTable } from "@/components/catalog/versions-table";
import { PageHeader } from "@/components/shell/page-header";
import { HangarError } from "@/lib/errors";
import { requireViewer } from "@/lib/auth/session";
import { catalogParamNames, catalogSearchSchema } from "@/lib/validations/images";
import { readPackageCondition, type PackageCondition } from "@/lib/validations/packages";

export const metadata: Metadata = { title: "Catalog" };

const PAGE_SIZE = 50;

type SearchParams = Record<string, string | string[] | undefined>;

function firstValues(searchParams: SearchParams): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(searchParams).map(([key, value]) => [key, Array.isArray(value) ? value[0] : value]),
  );
}

function returnPath(raw: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(raw)) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `/?${text}` : "/";
}

export default async function CatalogPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const raw = firstValues(await searchParams);
  const viewer = await requireViewer(returnPath(raw));
  const facets = await getCatalogFacets({ viewer });
  const parsed = catalogSearchSchema.safeParse(raw);

  if (!parsed.success) {
    const rawParams: CatalogParams = Object.fromEntries(catalogParamNames.map((name) => [name, raw[name]]));
    return (
      <>
        <PageHeader title="Catalog" />
        <CatalogFilters params={{ ...rawParams, cursor: undefined }} facets={facets} clearHref={null} />
        <InvalidSearch
          issues={parsed.error.issues.map((issue) => ({
            param: issue.path.join(".") || "URL",
            message: issue.message,
          }))}
        />
      </>
    );
  }

  const search = parsed.data;
  const params = filterParams(search);
  const { view, order, contains, ...filtersAndCursor } = search;
  // A bad package condition is reported next to its field; the results stay what they would be without it.
  let containsPackage: PackageCondition | undefined;
  let containsError: string | undefined;
  if (contains) {
    try {
      containsPackage = readPackageCondition(contains);
    } catch (error) {
      if (!(error instanceof HangarError)) throw error;
      containsError = error.message;
    }
  }
  const query: CatalogQuery = {
    viewer,
    ...filtersAndCursor,
    containsPackage,
    order: order ?? defaultOrder[search.sort],
    limit: PAGE_SIZE,
  };

  let page;
  try {
    page =
      view === "versions"
        ? { view: "versions" as const, ...(await listCatalogVersions(query)) }
        : { view: "images" as const, ...(await listCatalogImages(query)) };
  } catch (error) {
    if (!(error instanceof HangarError) || error.code !== "invalid") throw error;
    return (
      <>
        <PageHeader title="Catalog" />
        <p role="alert" className="rounded-lg border border-line bg-surface p-5">
          {error.message} <Link href={catalogHref(params)}>First page</Link>
        </p>
      </>
    );
  }

  const filtered = hasFilters(search);
  return (
    <>
      <PageHeader
        title="Catalog"
        description={
          search.view === "versions"
            ? "Every version of every image you can see."
            : "Every image you can see, with its newest version."
        }
        actions={<ViewToggle params={params} view={search.view} />}
      />
      <CatalogFilters
        key={`filters:${catalogHref(params)}`}
        params={params}
        facets={facets}
        clearHref={filtered ? catalogHref({ view: params.view }) : null}
        containsError={containsError}
      />
      {page.rows.length === 0 ? (
        filtered ? (
          <NoMatches search={search} />
        ) : search.cursor ? (
          <p className="text-muted">
            There is nothing on this page any more. <Link href={catalogHref(params)}>Go to the first page</Link>.
          </p>
        ) : (
          <EmptyCatalog />
        )
      ) : page.view === "versions" ? (
        <VersionsTable rows={page.rows} />
      ) : (
        <ImagesTable key={`rows:${catalogHref({ ...params, cursor: search.cursor })}`} rows={page.rows} />
      )}
      <Pagination params={params} cursor={search.cursor} nextCursor={page.nextCursor} />
    </>
  );
}
