import Link from "next/link";
import type { CatalogView } from "@/db/queries/catalog";
import { buttonClasses } from "@/components/ui/button";
import { cx } from "@/components/ui/cx";
import { catalogHref, type CatalogParams } from "./catalog-url";

export function ViewToggle({ params, view }: { params: CatalogParams; view: CatalogView }) {
  const views: { value: CatalogView; label: string; hint: string }[] = [
    { value: "images", label: "Images", hint: "One row per image, showing its newest version" },
    { value: "versions", label: "Versions", hint: "Every version of every image" },
  ];
  return (
    <nav aria-label="Catalog view" className="inline-flex rounded-md border border-line-strong bg-surface p-0.5">
      {views.map((item) => (
        <Link
          key={item.value}
          href={catalogHref({ ...params, view: item.value === "images" ? undefined : item.value })}
          aria-current={view === item.value ? "page" : undefined}
          title={item.hint}
          className={cx(
            "rounded px-3 py-1 text-sm font-medium hover:no-underline",
            view === item.value ? "bg-accent text-accent-fg" : "text-muted hover:bg-raised hover:text-fg",
          )}
        >
          {item.label}
        </Link>
      ))}
    </nav>
  );
}

export function Pagination({
  params,
  cursor,
  nextCursor,
}: {
  params: CatalogParams;
  cursor?: string;
  nextCursor: string | null;
}) {
  if (!cursor && !nextCursor) return null;
  return (
    <nav aria-label="Pages" className="mt-4 flex items-center justify-end gap-2">
      {cursor ? (
        <Link href={catalogHref(params)} className={buttonClasses()}>
          First page
        </Link>
      ) : null}
      {nextCursor ? (
        <Link href={catalogHref({ ...params, cursor: nextCursor })} className={buttonClasses()}>
          Next page
        </Link>
      ) : null}
    </nav>
  );
}
