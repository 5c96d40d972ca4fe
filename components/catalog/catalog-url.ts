import type { CatalogSearch } from "@/lib/validations/images";

export type CatalogParams = Partial<Record<keyof CatalogSearch, string | undefined>>;

/** The catalog URL for these parameters; empty ones are left out so shared links stay short. */
export function catalogHref(params: CatalogParams): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value) query.set(key, value);
  }
  const text = query.toString();
  return text ? `/?${text}` : "/";
}

/** The parsed search as URL parameters, without the page cursor and without values that are defaults. */
export function filterParams(search: CatalogSearch): CatalogParams {
  return {
    q: search.q,
    os: search.os,
    arch: search.arch,
    format: search.format,
    tag: search.tag,
    project: search.project,
    status: search.status,
    distro: search.distro,
    detectedArch: search.detectedArch,
    contains: search.contains,
    sort: search.sort === "updated" ? undefined : search.sort,
    order: search.order,
    view: search.view === "images" ? undefined : search.view,
  };
}

export function hasFilters(search: CatalogSearch): boolean {
  return Boolean(
    search.q ||
    search.os ||
    search.arch ||
    search.format ||
    search.tag ||
    search.project ||
    search.status ||
    search.distro ||
    search.detectedArch ||
    search.contains,
  );
}
