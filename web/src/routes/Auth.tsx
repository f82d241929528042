import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "@tanstack/react-router";
import { useMutation } from "@tanstack/react-query";
import { api } from "../api/client";
import { ProblemError, unwrap } from "../api/problem";
import { setTokens } from "../api/session";
import { loginRoute } from "../router";
import { Field } from "./Field";

function FormAlert({ error, fields }: { error: unknown; fields: string[] }) {
  if (!error) return null;
  if (error instanceof ProblemError) {
    // Field errors are shown next to their fields; anything else here.
    const other = error.errors.filter((e) => !fields.some((f) => e.field === f || e.field.endsWith("." + f)));
    if (error.errors.length > 0 && other.length === 0) return <p role="alert" className="error">Please correct the errors below.</p>;
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

const fieldErr = (e: unknown, f: string) => (e instanceof ProblemError ? e.fieldError(f) : undefined);

export function LoginPage() {
  const { redirect } = loginRoute.useSearch();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/login", { body: { email, password } })),
    onSuccess: (t) => {
      setTokens({ accessToken: t.access_token, refreshToken: t.refresh_token });
      void navigate({ to: redirect ?? "/" });
    },
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    login.mutate();
  }
  return (
    <section className="auth">
      <h1>Sign in</h1>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert error={login.error} fields={["email", "password"]} />
        <Field label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={fieldErr(login.error, "email")} />
        <Field label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={fieldErr(login.error, "password")} />
        <button type="submit" disabled={login.isPending}>
          Sign in
        </button>
      </form>
      <p>
        New here? <Link to="/register">Create an account</Link>
      </p>
    </section>
  );
}

export function RegisterPage() {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const reg = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/register", { body: { name, email, password } })),
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    reg.mutate();
  }
  if (reg.isSuccess) {
    return (
      <section className="auth">
        <h1>Check your email</h1>
        <p role="status">
          We sent a verification link to {reg.data.email ?? email}. Open it to activate your account, then{" "}
          <Link to="/login" search={{}}>
            sign in
          </Link>
          .
        </p>
      </section>
    );
  }
  return (
    <section className="auth">
      <h1>Create account</h1>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert error={reg.error} fields={["name", "email", "password"]} />
        <Field label="Name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} error={fieldErr(reg.error, "name")} />
        <Field label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={fieldErr(reg.error, "email")} />
        <Field label="Password" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={fieldErr(reg.error, "password")} />
        <button type="submit" disabled={reg.isPending}>
          Create account
        </button>
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
