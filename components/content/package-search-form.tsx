import { Button } from "@/components/ui/button";
import { Input, Label } from "@/components/ui/input";

/** "Where does this package occur?": a GET form whose text is a package condition (openssl < 3.0.14). */
export function PackageSearchForm({ value, error }: { value?: string; error?: string }) {
  return (
    <form method="get" action="/packages" role="search" aria-label="Packages" className="space-y-1">
      <Label htmlFor="package-search">Package</Label>
      <div className="flex items-start gap-2">
        <div className="min-w-0 max-w-xl flex-1">
          <Input
            id="package-search"
            name="q"
            type="search"
            defaultValue={value ?? ""}
            placeholder="openssl < 3.0.14"
            autoComplete="off"
            spellCheck={false}
            required
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "package-search-error" : "package-search-hint"}
          />
        </div>
        <Button type="submit" variant="primary">
          Search
        </Button>
      </div>
      {error ? (
        <p id="package-search-error" role="alert" className="text-xs text-danger">
          {error}
        </p>
      ) : (
        <p id="package-search-hint" className="text-xs text-muted">
          A package name, optionally with =, &lt;, &lt;=, &gt; or &gt;= and a version, compared with the package
          manager’s own ordering. For Debian packages a version without a revision means revision “”, so openssl =
          3.0.14 does not match 3.0.14-1 (use &gt;=).
        </p>
      )}
    </form>
  );
}
