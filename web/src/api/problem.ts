import type { components } from "./schema";

export type Problem = components["schemas"]["Problem"];
export type FieldError = components["schemas"]["openapi.FieldError"];

// ProblemError is an API failure answered with application/problem+json
// (RFC 9457 plus the API's machine-readable code and per-field errors).
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[];

  constructor(p: Partial<Problem> & { status: number }) {
    super(p.detail || p.title || `request failed (${p.status})`);
    this.name = "ProblemError";
    this.status = p.status;
    this.code = p.code ?? "unknown";
    this.detail = p.detail;
    this.errors = p.errors ?? [];
  }

  // fieldError is the message for one request field (JSON name), if any.
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field || e.field.endsWith("." + field))?.message;
  }
}

function isProblem(v: unknown): v is Problem {
  return typeof v === "object" && v !== null && "status" in v && "code" in v;
}

// unwrap turns an openapi-fetch result into its data or a thrown
// ProblemError, so queries and mutations see failures as errors.
export function unwrap<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.error !== undefined || !r.response.ok) {
    const e = r.error;
    if (isProblem(e)) throw new ProblemError(e);
    throw new ProblemError({ status: r.response.status, title: r.response.statusText, code: "http_" + r.response.status });
  }
  return r.data as T;
}
