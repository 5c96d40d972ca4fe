import { cx } from "./cx";
import type { ActionOutcome } from "./use-server-action";

/**
 * The outcome of a server action. The status region is always mounted so screen readers announce
 * a success when its text arrives; an error is an alert of its own. When every field error is
 * already shown next to its field (`fieldsShown`), the alert points there instead of repeating it.
 */
export function ActionMessage({
  outcome,
  fieldsShown = [],
  className,
}: {
  outcome: ActionOutcome;
  fieldsShown?: string[];
  className?: string;
}) {
  const fieldErrors = outcome?.kind === "error" ? Object.keys(outcome.fieldErrors) : [];
  const allShown = fieldErrors.length > 0 && fieldErrors.every((field) => fieldsShown.includes(field));
  return (
    <>
      <p role="status" className={cx("text-sm text-success empty:hidden", className)}>
        {outcome?.kind === "success" ? outcome.text : null}
      </p>
      {outcome?.kind === "error" ? (
        <p role="alert" className={cx("text-sm text-danger", className)}>
          {allShown ? "Nothing was saved: fix the fields marked in red and try again." : outcome.text}
        </p>
      ) : null}
    </>
  );
}
