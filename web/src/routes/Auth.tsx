import { Link, useNavigate } from "@tanstack/react-router";
import { useMutation } from "@tanstack/react-query";
import { useForm } from "@tanstack/react-form";
import { api } from "../api/client";
import { ProblemError, unwrap } from "../api/problem";
import { setTokens } from "../api/session";
import { loginRoute } from "../router";
import { Field } from "./Field";
import { all, email, maxLen, minLen, required, bindField } from "./form";

// FormAlert announces a failed submit: field errors are shown next to
// their fields, anything else (or a summary) here.
export function FormAlert({ error, fields }: { error: unknown; fields: string[] }) {
  if (!error) return null;
  if (error instanceof ProblemError) {
    const other = error.errors.filter((e) => !fields.some((f) => e.field === f || e.field.endsWith("." + f)));
    if (error.errors.length > 0 && other.length === 0)
      return (
        <p role="alert" className="error">
          Please correct the errors below.
        </p>
      );
    return (
      <p role="alert" className="error">
        {other.length > 0 ? other.map((e) => e.message).join(" ") : error.message}
      </p>
    );
  }
  return (
    <p role="alert" className="error">
      Something went wrong. Please try again.
    </p>
  );
}

const explain: Record<string, string> = {
  invalid_credentials: "The email or password is not right.",
  email_not_verified: "Please verify your email first: open the link we sent you.",
};

export function LoginPage() {
  const { redirect } = loginRoute.useSearch();
  const navigate = useNavigate();
  const login = useMutation({
    mutationFn: async (body: { email: string; password: string }) => unwrap(await api.POST("/api/v1/auth/login", { body })),
    onSuccess: (t) => {
      setTokens({ accessToken: t.access_token, refreshToken: t.refresh_token });
      void navigate({ to: redirect ?? "/" });
    },
  });
  const form = useForm({
    defaultValues: { email: "", password: "" },
    onSubmit: async ({ value }) => {
      await login.mutateAsync({ email: value.email.trim(), password: value.password }).catch(() => undefined);
    },
  });
  const err = login.error;
  const known = err instanceof ProblemError ? explain[err.code] : undefined;
  return (
    <section className="auth">
      <h1>Sign in</h1>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void form.handleSubmit();
        }}
      >
        {known ? (
          <p role="alert" className="error">
            {known}
          </p>
        ) : (
          <FormAlert error={err} fields={["email", "password"]} />
        )}
        <form.Field name="email" validators={{ onBlur: all(required("Email"), email), onSubmit: all(required("Email"), email) }}>
          {(f) => (
            <Field
              label="Email"
              type="email"
              autoComplete="email"
              required
              {...bindField(f, form.state.submissionAttempts > 0, err, "email")}
            />
          )}
        </form.Field>
        <form.Field name="password" validators={{ onSubmit: all(required("Password")) }}>
          {(f) => (
            <Field
              label="Password"
              type="password"
              autoComplete="current-password"
              required
              {...bindField(f, form.state.submissionAttempts > 0, err, "password")}
            />
          )}
        </form.Field>
        <form.Subscribe selector={(s) => s.isSubmitting}>
          {(busy) => (
            <button type="submit" disabled={busy}>
              Sign in
            </button>
          )}
        </form.Subscribe>
      </form>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link to="/register">Create an account</Link>
      </p>
    </section>
  );
}

export function RegisterPage() {
  const reg = useMutation({
    mutationFn: async (body: { name: string; email: string; password: string }) => unwrap(await api.POST("/api/v1/auth/register", { body })),
  });
  const form = useForm({
    defaultValues: { name: "", email: "", password: "" },
    onSubmit: async ({ value }) => {
      await reg.mutateAsync({ name: value.name.trim(), email: value.email.trim(), password: value.password }).catch(() => undefined);
    },
  });
  const err = reg.error;
  const submitted = form.state.submissionAttempts > 0;
  if (reg.isSuccess) {
    return (
      <section className="auth">
        <h1>Check your email</h1>
        <p role="status">
          We sent a verification link to {reg.data.email}. Open it to activate your account, then{" "}
          <Link to="/login" search={{}}>
            sign in
          </Link>
          .
        </p>
      </section>
    );
  }
  const nameCheck = all(required("Name"), maxLen(100));
  const emailCheck = all(required("Email"), email, maxLen(320));
  const passwordCheck = all(required("Password"), minLen(8, "Password"), maxLen(128));
  return (
    <section className="auth">
      <h1>Create account</h1>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void form.handleSubmit();
        }}
      >
        <FormAlert error={err} fields={["name", "email", "password"]} />
        <form.Field name="name" validators={{ onBlur: nameCheck, onSubmit: nameCheck }}>
          {(f) => (
            <Field
              label="Name"
              autoComplete="name"
              required
              {...bindField(f, submitted, err, "name")}
            />
          )}
        </form.Field>
        <form.Field name="email" validators={{ onBlur: emailCheck, onSubmit: emailCheck }}>
          {(f) => (
            <Field
              label="Email"
              type="email"
              autoComplete="email"
              required
              {...bindField(f, submitted, err, "email")}
            />
          )}
        </form.Field>
        <form.Field name="password" validators={{ onBlur: passwordCheck, onSubmit: passwordCheck }}>
          {(f) => (
            <Field
              label="Password"
              type="password"
              autoComplete="new-password"
              required
              {...bindField(f, submitted, err, "password")}
            />
          )}
        </form.Field>
        <p className="muted">At least 8 characters.</p>
        <form.Subscribe selector={(s) => s.isSubmitting}>
          {(busy) => (
            <button type="submit" disabled={busy}>
              Create account
            </button>
          )}
        </form.Subscribe>
      </form>
      <p>
        Already have an account?{" "}
        <Link to="/login" search={{}}>
          Sign in
        </Link>
      </p>
    </section>
  );
}
