import type { ReactNode } from "react";
import type { ImageDetail } from "@/db/queries/images";
import { shortHash } from "@/components/ui/format";
import { RelativeTime } from "@/components/ui/time";
import { CopyValue } from "./copy-button";

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[7.5rem_1fr] gap-2 py-1.5">
      <dt className="text-muted">{term}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </div>
  );
}

export function ImageFacts({ image, latestSha256 }: { image: ImageDetail; latestSha256: string | null }) {
  return (
    <dl className="divide-y divide-line">
      <Fact term="OS / version">
        {image.os} {image.osVersion}
      </Fact>
      <Fact term="Architecture">
        <code>{image.arch}</code>
      </Fact>
      <Fact term="Project">{image.projectName}</Fact>
      <Fact term="Created by">{image.createdByEmail ?? <span className="text-muted">unknown</span>}</Fact>
      <Fact term="Created">
        <RelativeTime date={image.createdAt} />
      </Fact>
      <Fact term="Updated">
        <RelativeTime date={image.updatedAt} />
      </Fact>
      <Fact term="Newest version">{image.latestVersion ?? <span className="text-muted">none ready yet</span>}</Fact>
      <Fact term="Latest SHA-256">
        {latestSha256 ? (
          <CopyValue value={latestSha256} shown={shortHash(latestSha256, 16)} label="SHA-256 of the newest version" />
        ) : (
          <span className="text-muted">—</span>
        )}
      </Fact>
    </dl>
  );
}
