import type { Feedback } from "./use-image-action";

/**
 * The status region is always mounted so screen readers announce a success when its text arrives;
 * an error is an alert of its own. When every field error is already shown next to its field
 * (`fieldsShown`), the alert points there instead of repeating it.
 */
export function FeedbackMessage({ feedback, fieldsShown = [] }: { feedback: Feedback; fieldsShown?: string[] }) {
  const fieldErrors = feedback?.kind === "error" ? Object.keys(feedback.fieldErrors ?? {}) : [];
  const allShown = fieldErrors.length > 0 && fieldErrors.every((field) => fieldsShown.includes(field));
  return (
    <>
      <p role="status" className="text-sm text-success empty:hidden">
        {feedback?.kind === "success" ? feedback.text : null}
      </p>
      {feedback?.kind === "error" ? (
        <p role="alert" className="text-sm text-danger">
          {allShown ? "Nothing was saved: fix the fields marked in red and try again." : feedback.text}
        </p>
      ) : null}
    </>
  );
}
