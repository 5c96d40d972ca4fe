import type { Feedback } from "./use-image-action";

/**
 * The status region is always mounted so screen readers announce a success when its text arrives;
 * an error is an alert of its own.
 */
export function FeedbackMessage({ feedback }: { feedback: Feedback }) {
  return (
    <>
      <p role="status" className="text-sm text-success empty:hidden">
        {feedback?.kind === "success" ? feedback.text : null}
      </p>
      {feedback?.kind === "error" ? (
        <p role="alert" className="text-sm text-danger">
          {feedback.text}
        </p>
      ) : null}
    </>
  );
}
