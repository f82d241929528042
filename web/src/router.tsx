import { createRootRoute, createRoute, createRouter, redirect } from "@tanstack/react-router";
import { getTokens } from "./api/session";
import { Layout, NotFound } from "./routes/Layout";
import { HomePage } from "./routes/Home";
import { SearchPage, type SearchParams } from "./routes/Search";
import { ProductPage } from "./routes/Product";
import { LoginPage, RegisterPage } from "./routes/Auth";
import { VerifyEmailPage } from "./routes/VerifyEmail";
import { CartPage } from "./routes/Cart";

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

const rootRoute = createRootRoute({ component: Layout, notFoundComponent: NotFound });

const homeRoute = createRoute({ getParentRoute: () => rootRoute, path: "/", component: HomePage });

const sorts = ["relevance", "price_asc", "price_desc", "newest"] as const;
export const searchRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/search",
  validateSearch: (s: Record<string, unknown>): SearchParams => {
    const sort = sorts.find((x) => x === s.sort);
    return { q: str(s.q), category: str(s.category), brand: str(s.brand), sort, cursor: str(s.cursor) };
  },
  component: SearchPage,
});

export const productRoute = createRoute({ getParentRoute: () => rootRoute, path: "/products/$id", component: ProductPage });

export const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/login",
  // Only same-site paths: never an open redirect to another origin.
  validateSearch: (s: Record<string, unknown>): { redirect?: string } => {
    const r = str(s.redirect);
    return { redirect: r && r.startsWith("/") && !r.startsWith("//") ? r : undefined };
  },
  component: LoginPage,
});

const registerRoute = createRoute({ getParentRoute: () => rootRoute, path: "/register", component: RegisterPage });

export const verifyRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/verify-email",
  validateSearch: (s: Record<string, unknown>): { token?: string } => ({ token: str(s.token) }),
  component: VerifyEmailPage,
});

const cartRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/cart",
  beforeLoad: () => {
    if (!getTokens()) throw redirect({ to: "/login", search: { redirect: "/cart" } });
  },
  component: CartPage,
});

const routeTree = rootRoute.addChildren([homeRoute, searchRoute, productRoute, loginRoute, registerRoute, verifyRoute, cartRoute]);

export const router = createRouter({ routeTree, defaultPreload: "intent" });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
