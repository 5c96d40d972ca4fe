import { isAdmin } from "@/db/queries/access";
import type { Viewer } from "@/db/queries/users";

export interface NavItem {
  href: string;
  label: string;
}

export function navItemsFor(viewer: Viewer): NavItem[] {
  return [
    { href: "/", label: "Catalog" },
    { href: "/packages", label: "Packages" },
    { href: "/import", label: "Import" },
    { href: "/recipes", label: "Recipes" },
    { href: "/builds", label: "Builds" },
    ...(isAdmin(viewer) ? [{ href: "/reviews", label: "Reviews" }] : []),
    { href: "/projects", label: "Projects" },
    ...(isAdmin(viewer)
      ? [
          { href: "/admin/users", label: "Users" },
          { href: "/admin/audit", label: "Audit" },
          { href: "/admin/webhooks", label: "Webhooks" },
          { href: "/admin/tokens", label: "Tokens" },
          { href: "/admin/feeds", label: "Feeds" },
        ]
      : []),
  ];
}
