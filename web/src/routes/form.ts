// Client-side validation for the TanStack Form forms: the same rules the
// server enforces, so a shopper sees a mistake before a round trip, while
// the server's problem+json field errors (which still decide) show in the
// same place.
import { ProblemError } from "../api/problem";

type Check = (value: string) => string | undefined;

export const required =
  (what: string): Check =>
  (v) =>
    v.trim() === "" ? `${what} is required.` : undefined;

export const maxLen =
  (n: number): Check =>
  (v) =>
    v.length > n ? `Use at most ${n} characters.` : undefined;

export const minLen =
  (n: number, what: string): Check =>
  (v) =>
    v.length > 0 && v.length < n ? `${what} must be at least ${n} characters.` : undefined;

// An address with something before and after one @ and a dot in the
// domain: the server has the final word (and sends the link).
export const email: Check = (v) => (v.trim() !== "" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()) ? "Enter an email address like name@example.com." : undefined);

// all runs checks in order and returns the first failure: the shape
// TanStack Form validators return.
export const all =
  (...checks: Check[]) =>
  ({ value }: { value: string }): string | undefined => {
    for (const c of checks) {
      const m = c(value);
      if (m) return m;
    }
    return undefined;
  };

// shownError is what a field displays: its own validation error once the
// shopper has left the field or submitted, else the server's error for
// that field from the last failed request.
export function shownError(meta: { errors: unknown[]; isTouched: boolean }, submitted: boolean, server: unknown, name: string): string | undefined {
  const own = meta.errors.find((e): e is string => typeof e === "string" && e !== "");
  if (own && (meta.isTouched || submitted)) return own;
  return server instanceof ProblemError ? server.fieldError(name) : undefined;
}

// A TanStack Form field of a text input, as bindField reads it.
interface TextFieldApi {
  state: { value: string; meta: { errors: unknown[]; isTouched: boolean } };
  handleBlur: () => void;
  handleChange: (value: string) => void;
}

// bindField is the props that tie a text input (Field) to its form field:
// value, blur and change, and the error it shows (see shownError).
export function bindField(f: TextFieldApi, submitted: boolean, server: unknown, name: string) {
  return {
    value: f.state.value,
    onBlur: f.handleBlur,
    onChange: (e: { target: { value: string } }) => f.handleChange(e.target.value),
    error: shownError(f.state.meta, submitted, server, name),
  };
}
