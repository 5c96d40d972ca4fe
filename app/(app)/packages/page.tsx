import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { PackageSearchForm } from "@/components/content/package-search-form";
import { PageHeader } from "@/components/shell/page-header";
import { requireViewer } from "@/lib/auth/session";
import { HangarError } from "@/lib/errors";
import { readPackageCondition } from "@/lib/validations/packages";

export const metadata: Metadata = { title: "Packages" };

type SearchParams = Record<string, string | string[] | undefined>;

/** Where a package occurs: a valid condition goes to the package's own page, a bad one is explained next to the field. */
export default async function PackagesPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const raw = (await searchParams).q;
  const q = (Array.isArray(raw) ? raw[0] : raw)?.trim() ?? "";
  await requireViewer(q ? `/packages?${new URLSearchParams({ q })}` : "/packages");
  let error: string | undefined;
  if (q) {
    let target: string | null = null;
    try {
      const condition = readPackageCondition(q);
      const where =
        condition.op && condition.version
          ? `?${new URLSearchParams({ version: `${condition.op} ${condition.version}` })}`
          : "";
      target = `/packages/${encodeURIComponent(condition.name)}${where}`;
    } catch (caught) {
      if (!(caught instanceof HangarError)) throw caught;
      error = caught.message;
    }
    if (target) redirect(target);
  }
  return (
    <div className="space-y-6">
      <PageHeader
        title="Packages"
        description="Find every version you can see that contains a package, optionally below or above a version."
      />
      <PackageSearchForm value={q} error={error} />
    </div>
  );
}
