import type { Metadata } from "next";
import Link from "next/link";
import { PackageSearchForm } from "@/components/content/package-search-form";
import { PageHeader } from "@/components/shell/page-header";
import { buttonClasses } from "@/components/ui/button";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { searchPackageVersions } from "@/db/queries/packages";
import { requireViewer } from "@/lib/auth/session";
import { HangarError } from "@/lib/errors";
import { formatPackageCondition, readPackageCondition, type PackageCondition } from "@/lib/validations/packages";

const PAGE_SIZE = 100;

type Props = {
  params: Promise<{ name: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.trim() || undefined;

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Package ${decodeURIComponent((await params).name)}` };
}

export default async function PackagePage({ params, searchParams }: Props) {
  const name = decodeURIComponent((await params).name);
  const search = await searchParams;
  const version = first(search.version);
  const cursor = first(search.cursor);
  const here = (extra: Record<string, string | undefined>) => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries({ version, ...extra })) if (value) query.set(key, value);
    return `/packages/${encodeURIComponent(name)}${query.size ? `?${query}` : ""}`;
  };
  const viewer = await requireViewer(here({ cursor }));

  // The name alone must parse; a bad version condition is explained and the list shows every version of the package.
  let condition: PackageCondition | null = null;
  let nameError: string | undefined;
  let conditionError: string | undefined;
  try {
    condition = readPackageCondition(name);
  } catch (error) {
    if (!(error instanceof HangarError)) throw error;
    nameError = error.message;
  }
  if (condition && version) {
    try {
      condition = readPackageCondition(`${name} ${version}`);
    } catch (error) {
      if (!(error instanceof HangarError)) throw error;
      conditionError = `${error.message} Showing every version of ${name} instead.`;
    }
  }
  const typed = version ? `${name} ${version}` : name;

  let page: Awaited<ReturnType<typeof searchPackageVersions>> | null = null;
  let pageError: string | undefined;
  if (condition) {
    try {
      page = await searchPackageVersions({
        viewer,
        condition,
        limit: PAGE_SIZE,
        cursor,
      });
    } catch (error) {
      if (!(error instanceof HangarError) || error.code !== "invalid") throw error;
      pageError = error.message;
    }
  }

  return (
    <div className="space-y-6">
      <nav aria-label="Breadcrumb" className="text-sm text-muted">
        <Link href="/packages">Packages</Link> / {name}
      </nav>
      <PageHeader
        title={condition ? formatPackageCondition(condition) : name}
        description="Versions you can see whose inspected contents hold this package."
      />
      <PackageSearchForm value={typed} error={nameError ?? conditionError} />
      {pageError ? (
        <p role="alert" className="rounded-lg border border-line bg-surface p-5 text-sm">
          {pageError} <Link href={here({})}>First page</Link>
        </p>
      ) : null}
      {page ? (
        page.rows.length === 0 ? (
          <p className="rounded-lg border border-dashed border-line-strong bg-surface px-6 py-10 text-center text-muted">
            {cursor ? (
              <>
                There is nothing on this page any more. <Link href={here({})}>Go to the first page</Link>.
              </>
            ) : (
              <>No version you can see contains {condition ? formatPackageCondition(condition) : name}.</>
            )}
          </p>
        ) : (
          <>
            <Table>
              <caption className="sr-only">
                Versions containing {condition ? formatPackageCondition(condition) : name}
              </caption>
              <thead>
                <tr>
                  <Th>Image</Th>
                  <Th>Version</Th>
                  <Th>Package version</Th>
                  <Th>Architecture</Th>
                </tr>
              </thead>
              <tbody>
                {page.rows.map((item, index) => (
                  <Tr key={`${item.versionId}:${item.arch}:${index}`}>
                    <Td>
                      <Link href={`/images/${item.imageSlug}`}>{item.imageName}</Link>
                    </Td>
                    <Td>
                      <Link href={`/images/${item.imageSlug}/versions/${encodeURIComponent(item.version)}`}>
                        {item.version}
                      </Link>
                    </Td>
                    <Td className="font-mono text-xs">{item.packageVersion}</Td>
                    <Td>{item.arch || "—"}</Td>
                  </Tr>
                ))}
              </tbody>
            </Table>
            <nav aria-label="Pages" className="flex items-center justify-end gap-2">
              {cursor ? (
                <Link href={here({})} className={buttonClasses()}>
                  First page
                </Link>
              ) : null}
              {page.nextCursor ? (
                <Link href={here({ cursor: page.nextCursor })} className={buttonClasses()}>
                  Next page
                </Link>
              ) : null}
            </nav>
          </>
        )
      ) : null}
      {condition ? (
        <p className="text-sm">
          <Link href={`/?${new URLSearchParams({ contains: formatPackageCondition(condition) })}`}>
            Images in the catalog containing {formatPackageCondition(condition)}
          </Link>
        </p>
      ) : null}
    </div>
  );
}
