import { Notice } from "@/components/shell/notice";

export default function ImageNotFound() {
  return (
    <Notice title="Image not found">
      <p>
        This image doesn&apos;t exist, or you can&apos;t see it: it may belong to a project you are not a member of.
      </p>
    </Notice>
  );
}
