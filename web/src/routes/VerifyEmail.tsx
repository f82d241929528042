import { Link } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { verifyRoute } from "../router";
import { QueryError } from "./QueryError";

export function VerifyEmailPage() {
  const { token } = verifyRoute.useSearch();
  // A query rather than a mutation: it runs once per token, also under
  // StrictMode's double mount, and is never retried (a token is single-use).
  const r = useQuery({
    queryKey: ["verify-email", token],
    enabled: !!token,
    retry: false,
    staleTime: Infinity,
    gcTime: Infinity,
    queryFn: async () => unwrap(await api.POST("/api/v1/auth/verify", { body: { token: token ?? "" } })),
  });
  return (
    <section className="auth">
      <h1>Verify your email</h1>
      {!token ? (
        <p role="alert" className="error">
          This verification link is incomplete. Open the link from the email again.
        </p>
      ) : r.isPending ? (
        <p role="status">Verifying…</p>
      ) : r.error ? (
        <QueryError error={r.error} />
      ) : (
        <p role="status">
          Your email is verified.{" "}
          <Link to="/login" search={{}}>
            Sign in
          </Link>{" "}
          to start shopping.
        </p>
      )}
    </section>
  );
}
