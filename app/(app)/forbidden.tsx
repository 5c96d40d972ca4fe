import { ForbiddenNotice } from "@/components/shell/notice";

// Rendered, with HTTP 403, wherever a page calls forbidden().
export default function Forbidden() {
  return <ForbiddenNotice />;
}
