import { ProblemError } from "../api/problem";

export function QueryError({ error }: { error: unknown }) {
  const msg = error instanceof ProblemError ? error.message : "Something went wrong. Please try again.";
  return (
    <p role="alert" className="error">
      {msg}
    </p>
  );
}
