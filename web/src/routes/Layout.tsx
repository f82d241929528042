import { lazy, Suspense } from "react";
import { Link, Outlet } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { signOutEverywhere } from "../api/client";
import { role } from "../api/session";
import { useSession } from "../session";
import { cartQuery } from "./queries";
import { NotificationsBell } from "./Notifications";
import { HeaderSearch } from "./HeaderSearch";

// The support chat is its own chunk: loaded once a signed-in shopper's
// page has rendered, never part of the initial bundle.
const SupportChat = lazy(() => import("./Chat").then((m) => ({ default: m.SupportChat })));

export function Layout() {
  const session = useSession();
  const cart = useQuery({ ...cartQuery, enabled: !!session });
  const count = cart.data?.items.reduce((n, l) => n + l.quantity, 0) ?? 0;

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          Commerce
        </Link>
        <HeaderSearch />
        <nav className="account" aria-label="Account">
          <Link to="/cart">{session && count > 0 ? `Cart (${count})` : "Cart"}</Link>
          {session ? (
            <>
              {role() === "admin" ? <Link to="/admin">Admin</Link> : null}
              <Link to="/orders">Orders</Link>
              <Link to="/account">Account</Link>
              <NotificationsBell />
              <button type="button" className="link" onClick={() => void signOutEverywhere()}>
                Sign out
              </button>
            </>
          ) : (
            <Link to="/login" search={{}}>
              Sign in
            </Link>
          )}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      {/* Admins answer support from the admin console; shoppers ask here. */}
      {session && role() !== "admin" ? (
        <Suspense fallback={null}>
          <SupportChat />
        </Suspense>
      ) : null}
      <footer className="site-footer">
        <p>© Commerce</p>
      </footer>
    </>
  );
}

export function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the shop</Link>
      </p>
    </section>
  );
}
