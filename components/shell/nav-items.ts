import type { Viewer } from "@/db/queries/users";

export interface NavItem {
  href: string;
  label: string;
}

export function navItemsFor(viewer: Viewer): NavItem[] {
  return [
    { href: "/", label: "Catalog" },
    { href: "/import", label: "Import" },
    { href: "/recipes", label: "Recipes" },
    { href: "/builds", label: "Builds" },
    ...(viewer.role === "admin" ? [{ href: "/reviews", label: "Reviews" }] : []),
    { href: "/projects", label: "Projects" },
    ...(viewer.role === "admin"
      ? [
          { href: "/admin/users", label: "Users" },
          { href: "/admin/audit", label: "Audit" },
        ]
      : []),
  ];
}
