// Baseline for the catalog benchmark: the smallest page this build can serve, to compare the
// catalog's first-load JavaScript against.
export const dynamic = "force-static";

export default function HelloPage() {
  return <main>Hello</main>;
}
