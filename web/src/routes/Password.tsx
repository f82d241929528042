import { Link } from "@tanstack/react-router";
import { useMutation } from "@tanstack/react-query";
import { useForm, useStore } from "@tanstack/react-form";
import { api } from "../api/client";
import { ProblemError, unwrap } from "../api/problem";
import { getTokens, signOut } from "../api/session";
import { resetRoute } from "../router";
import { Field } from "./Field";
import "./account.css";

// Validation mirroring the server (internal/auth/internal/domain).
export function validateEmail(v: string): string | undefined {
  const t = v.trim();
  if (t === "") return "Enter your email address";
  if (t.length > 254 || !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(t)) return "Enter a valid email address";
  return undefined;
}

export function validateNewPassword(v: string): string | undefined {
  const n = [...v].length;
  if (n < 8) return "Password must be at least 8 characters";
  if (n > 128) return "Password must be at most 128 characters";
  return undefined;
}

function firstError(errors: unknown[]): string | undefined {
  return errors.find((e): e is string => typeof e === "string" && e !== "");
}

const fieldErr = (e: unknown, f: string) => (e instanceof ProblemError ? e.fieldError(f) : undefined);

// otherError is a request failure not about the given fields, for the
// form's alert.
function otherError(e: unknown, fields: string[]): string | null {
  if (!e) return null;
  if (!(e instanceof ProblemError)) return "Something went wrong. Please try again.";
  const other = e.errors.filter((x) => !fields.some((f) => x.field === f || x.field.endsWith("." + f)));
  if (e.errors.length > 0 && other.length === 0) return "Please correct the errors below.";
  return other.length > 0 ? other.map((x) => x.message).join(" ") : e.message;
}

export function ForgotPasswordPage() {
  const send = useMutation({
    mutationFn: async (email: string) => {
      unwrap(await api.POST("/api/v1/auth/password/forgot", { body: { email }, parseAs: "text" }));
    },
  });
  const form = useForm({
    defaultValues: { email: "" },
    onSubmit: async ({ value }) => {
      await send.mutateAsync(value.email.trim()).catch(() => undefined);
    },
  });
  const attempts = useStore(form.store, (s) => s.submissionAttempts);

  if (send.isSuccess) {
    return (
      <section className="auth">
        <h1>Check your email</h1>
        <p role="status">If an account exists for {send.variables}, we sent a link to reset your password. It expires soon, so use it promptly.</p>
        <p>
          <Link to="/login" search={{}}>
            Back to sign in
          </Link>
        </p>
      </section>
    );
  }

  const alert = otherError(send.error, ["email"]);
  return (
    <section className="auth">
      <h1>Forgot your password?</h1>
      <p className="muted">Enter the email address of your account and we will send you a link to choose a new password.</p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void form.handleSubmit();
        }}
      >
        {alert ? (
          <p role="alert" className="error">
            {alert}
          </p>
        ) : null}
        <form.Field name="email" validators={{ onChange: ({ value }) => validateEmail(value), onBlur: ({ value }) => validateEmail(value) }}>
          {(field) => (
            <Field
              label="Email"
              type="email"
              autoComplete="email"
              required
              value={field.state.value}
              onBlur={field.handleBlur}
              onChange={(e) => field.handleChange(e.target.value)}
              error={(field.state.meta.isBlurred || attempts > 0 ? firstError(field.state.meta.errors) : undefined) ?? fieldErr(send.error, "email")}
            />
          )}
        </form.Field>
        <form.Subscribe selector={(s) => s.isSubmitting}>
          {(submitting) => (
            <button type="submit" disabled={submitting}>
              Send reset link
            </button>
          )}
        </form.Subscribe>
      </form>
      <p>
        Remembered it?{" "}
        <Link to="/login" search={{}}>
          Sign in
        </Link>
      </p>
    </section>
  );
}

export function ResetPasswordPage() {
  const { token } = resetRoute.useSearch();
  const reset = useMutation({
    mutationFn: async ({ token, password }: { token: string; password: string }) =>
      unwrap(await api.POST("/api/v1/auth/password/reset", { body: { token, password } })),
    // Every session of the account is revoked: this tab's too.
    onSuccess: () => {
      if (getTokens()) signOut();
    },
  });
  const form = useForm({
    defaultValues: { password: "" },
    onSubmit: async ({ value }) => {
      if (!token) return;
      await reset.mutateAsync({ token, password: value.password }).catch(() => undefined);
    },
  });
  const attempts = useStore(form.store, (s) => s.submissionAttempts);

  if (!token) {
    return (
      <section className="auth">
        <h1>Reset your password</h1>
        <p role="alert" className="error">
          This reset link is missing its token. Open the link from the email again, or{" "}
          <Link to="/forgot-password">request a new reset link</Link>.
        </p>
      </section>
    );
  }

  if (reset.isSuccess) {
    return (
      <section className="auth">
        <h1>Password changed</h1>
        <p role="status">
          Your password has been changed, and every session of your account was signed out.{" "}
          <Link to="/login" search={{}}>
            Sign in
          </Link>{" "}
          with your new password.
        </p>
      </section>
    );
  }

  const pwErr = fieldErr(reset.error, "password");
  // A bad or expired token is not about the password: it gets the alert,
  // with the way to a new link.
  const alert = otherError(reset.error, ["password"]);
  const tokenProblem = reset.error instanceof ProblemError && !pwErr;
  return (
    <section className="auth">
      <h1>Choose a new password</h1>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void form.handleSubmit();
        }}
      >
        {alert ? (
          <div role="alert" className="error">
            <p>{alert}</p>
            {tokenProblem ? (
              <p>
                <Link to="/forgot-password">Request a new reset link</Link>
              </p>
            ) : null}
          </div>
        ) : null}
        <form.Field name="password" validators={{ onChange: ({ value }) => validateNewPassword(value), onBlur: ({ value }) => validateNewPassword(value) }}>
          {(field) => (
            <Field
              label="Password"
              type="password"
              autoComplete="new-password"
              required
              minLength={8}
              maxLength={128}
              value={field.state.value}
              onBlur={field.handleBlur}
              onChange={(e) => field.handleChange(e.target.value)}
              error={(field.state.meta.isBlurred || attempts > 0 ? firstError(field.state.meta.errors) : undefined) ?? pwErr}
            />
          )}
        </form.Field>
        <p className="muted form-note">At least 8 characters.</p>
        <form.Subscribe selector={(s) => s.isSubmitting}>
          {(submitting) => (
            <button type="submit" disabled={submitting}>
              Set new password
            </button>
          )}
        </form.Subscribe>
      </form>
    </section>
  );
}
