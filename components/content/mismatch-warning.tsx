/** Where what inspection read from the bytes contradicts what people typed about the image. */
export function MismatchWarning({ mismatches, context }: { mismatches: string[]; context?: string }) {
  if (!mismatches.length) return null;
  return (
    <div
      role="status"
      className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
    >
      <p className="font-medium">Detected contents contradict this image’s details{context ? ` (${context})` : ""}:</p>
      <ul className="mt-1 list-disc pl-5">
        {mismatches.map((mismatch) => (
          <li key={mismatch}>{mismatch}</li>
        ))}
      </ul>
    </div>
  );
}
