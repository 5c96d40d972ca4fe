import type { Metadata } from "next";
import Link from "next/link";
import { ApiReference } from "@/components/api/api-reference";
import { PageHeader } from "@/components/shell/page-header";
import { apiDocument } from "@/lib/api/openapi/document";

export const metadata: Metadata = { title: "API reference" };
export const dynamic = "force-dynamic";

// Public, like the document it renders: it describes the API, not anyone's data.
export default function ApiReferencePage() {
  const document = apiDocument();
  return (
    <div>
      <PageHeader
        title="API reference"
        description={
          <>
            Hangar&apos;s REST API, version {document.info.version}. Send{" "}
            <code>Authorization: Bearer &lt;token&gt;</code> with a token from{" "}
            <Link href="/settings/tokens">Settings → Access tokens</Link>. Errors always have the shape{" "}
            <code>{'{ "error": { "code", "message", "fields"? } }'}</code>; lists page by cursor. Machine-readable:{" "}
            <a href="/api/v1/openapi.json">openapi.json</a>.
          </>
        }
      />
      <ApiReference document={document as unknown as Record<string, unknown>} />
    </div>
  );
}
