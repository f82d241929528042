import { createRootRoute, createRoute, createRouter, lazyRouteComponent, redirect } from "@tanstack/react-router";
import { getTokens, role } from "./api/session";
import { Layout, NotFound } from "./routes/Layout";
import { HomePage } from "./routes/Home";
import type { SearchParams } from "./routes/Search";

// Route-level code splitting: the home page and the layout are in the
// initial bundle; every other page is its own chunk, fetched on the first
// visit (or on hover/focus of a link to it: defaultPreload "intent").
const page = {
  search: lazyRouteComponent(() => import("./routes/Search"), "SearchPage"),
  product: lazyRouteComponent(() => import("./routes/Product"), "ProductPage"),
  login: lazyRouteComponent(() => import("./routes/Auth"), "LoginPage"),
  register: lazyRouteComponent(() => import("./routes/Auth"), "RegisterPage"),
  verify: lazyRouteComponent(() => import("./routes/VerifyEmail"), "VerifyEmailPage"),
  forgot: lazyRouteComponent(() => import("./routes/Password"), "ForgotPasswordPage"),
  reset: lazyRouteComponent(() => import("./routes/Password"), "ResetPasswordPage"),
  cart: lazyRouteComponent(() => import("./routes/Cart"), "CartPage"),
  checkout: lazyRouteComponent(() => import("./routes/Checkout"), "CheckoutPage"),
  orders: lazyRouteComponent(() => import("./routes/Orders"), "OrdersPage"),
  order: lazyRouteComponent(() => import("./routes/Order"), "OrderPage"),
  account: lazyRouteComponent(() => import("./routes/Account"), "AccountPage"),
  chat: lazyRouteComponent(() => import("./routes/ChatPage"), "ChatPage"),
  adminLayout: lazyRouteComponent(() => import("./routes/admin/AdminLayout"), "AdminLayout"),
  adminDashboard: lazyRouteComponent(() => import("./routes/admin/Dashboard"), "DashboardAdmin"),
  adminProducts: lazyRouteComponent(() => import("./routes/admin/Products"), "ProductsAdmin"),
  adminProduct: lazyRouteComponent(() => import("./routes/admin/Product"), "ProductAdmin"),
  adminOrders: lazyRouteComponent(() => import("./routes/admin/Orders"), "OrdersAdmin"),
  adminOrder: lazyRouteComponent(() => import("./routes/admin/Order"), "OrderAdmin"),
  adminFulfillments: lazyRouteComponent(() => import("./routes/admin/Fulfillments"), "FulfillmentsAdmin"),
  adminPromotions: lazyRouteComponent(() => import("./routes/admin/Promotions"), "PromotionsAdmin"),
  adminShipping: lazyRouteComponent(() => import("./routes/admin/Shipping"), "ShippingAdmin"),
  adminCustomers: lazyRouteComponent(() => import("./routes/admin/Customers"), "CustomersAdmin"),
  adminSupport: lazyRouteComponent(() => import("./routes/admin/Support"), "SupportInbox"),
  adminSearch: lazyRouteComponent(() => import("./routes/admin/SearchInsights"), "SearchInsightsAdmin"),
  adminEvents: lazyRouteComponent(() => import("./routes/admin/Events"), "EventsAdmin"),
  adminWebhooks: lazyRouteComponent(() => import("./routes/admin/Webhooks"), "WebhooksAdmin"),
  adminAudit: lazyRouteComponent(() => import("./routes/admin/Audit"), "AuditAdmin"),
};

// signedIn guards a page that needs a session: without one the shopper
// signs in first and comes back to the same place.
const signedIn =
  (path: string) =>
  ({ location }: { location: { href: string } }) => {
    if (!getTokens()) throw redirect({ to: "/login", search: { redirect: location.href || path } });
  };

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

const rootRoute = createRootRoute({ component: Layout, notFoundComponent: NotFound });

const homeRoute = createRoute({ getParentRoute: () => rootRoute, path: "/", component: HomePage });

const sorts = ["relevance", "price_asc", "price_desc", "newest"] as const;
const num = (v: unknown): number | undefined => {
  const n = typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
};
export const searchRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/search",
  validateSearch: (s: Record<string, unknown>): SearchParams => {
    const sort = sorts.find((x) => x === s.sort);
    return { q: str(s.q), category: str(s.category), brand: str(s.brand), sort, cursor: str(s.cursor), min_price: num(s.min_price), max_price: num(s.max_price) };
  },
  component: page.search,
});

export const productRoute = createRoute({ getParentRoute: () => rootRoute, path: "/products/$id", component: page.product });

export const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/login",
  // Only same-site paths: never an open redirect to another origin.
  validateSearch: (s: Record<string, unknown>): { redirect?: string } => {
    const r = str(s.redirect);
    return { redirect: r && r.startsWith("/") && !r.startsWith("//") ? r : undefined };
  },
  component: page.login,
});

const registerRoute = createRoute({ getParentRoute: () => rootRoute, path: "/register", component: page.register });

export const verifyRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/verify-email",
  validateSearch: (s: Record<string, unknown>): { token?: string } => ({ token: str(s.token) }),
  component: page.verify,
});

const forgotRoute = createRoute({ getParentRoute: () => rootRoute, path: "/forgot-password", component: page.forgot });

export const resetRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/reset-password",
  validateSearch: (s: Record<string, unknown>): { token?: string } => ({ token: str(s.token) }),
  component: page.reset,
});

const cartRoute = createRoute({ getParentRoute: () => rootRoute, path: "/cart", beforeLoad: signedIn("/cart"), component: page.cart });

const checkoutRoute = createRoute({ getParentRoute: () => rootRoute, path: "/checkout", beforeLoad: signedIn("/checkout"), component: page.checkout });

const ordersRoute = createRoute({ getParentRoute: () => rootRoute, path: "/orders", beforeLoad: signedIn("/orders"), component: page.orders });

export const orderRoute = createRoute({ getParentRoute: () => rootRoute, path: "/orders/$id", beforeLoad: signedIn("/orders"), component: page.order });

const accountRoute = createRoute({ getParentRoute: () => rootRoute, path: "/account", beforeLoad: signedIn("/account"), component: page.account });

// Chat emails link here.
export const chatRoute = createRoute({ getParentRoute: () => rootRoute, path: "/chat/$id", beforeLoad: signedIn("/"), component: page.chat });

// The admin console: admins only; anyone else signs in (as an admin).
const adminRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/admin",
  beforeLoad: ({ location }) => {
    if (!getTokens() || role() !== "admin") throw redirect({ to: "/login", search: { redirect: location.href } });
  },
  component: page.adminLayout,
});

const adminDashboardRoute = createRoute({ getParentRoute: () => adminRoute, path: "/", component: page.adminDashboard });
const adminProductsRoute = createRoute({ getParentRoute: () => adminRoute, path: "/products", component: page.adminProducts });
const adminFulfillmentsRoute = createRoute({ getParentRoute: () => adminRoute, path: "/fulfillments", component: page.adminFulfillments });
const adminPromotionsRoute = createRoute({ getParentRoute: () => adminRoute, path: "/promotions", component: page.adminPromotions });
const adminShippingRoute = createRoute({ getParentRoute: () => adminRoute, path: "/shipping", component: page.adminShipping });
const adminCustomersRoute = createRoute({ getParentRoute: () => adminRoute, path: "/customers", component: page.adminCustomers });
const adminSupportRoute = createRoute({ getParentRoute: () => adminRoute, path: "/support", component: page.adminSupport });
const adminSearchRoute = createRoute({ getParentRoute: () => adminRoute, path: "/search", component: page.adminSearch });
const adminEventsRoute = createRoute({ getParentRoute: () => adminRoute, path: "/events", component: page.adminEvents });
const adminWebhooksRoute = createRoute({ getParentRoute: () => adminRoute, path: "/webhooks", component: page.adminWebhooks });
const adminAuditRoute = createRoute({ getParentRoute: () => adminRoute, path: "/audit", component: page.adminAudit });
const adminOrdersSearch = (s: Record<string, unknown>): AdminOrdersSearch => ({
  status: str(s.status),
  from: str(s.from),
  to: str(s.to),
  user_id: str(s.user_id),
  q: str(s.q),
  cursor: str(s.cursor),
});

/** AdminOrdersSearch is the orders list's filter, kept in the URL. */
export interface AdminOrdersSearch {
  status?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  user_id?: string | undefined;
  q?: string | undefined;
  cursor?: string | undefined;
}

export const adminProductRoute = createRoute({ getParentRoute: () => adminRoute, path: "/products/$id", component: page.adminProduct });
export const adminOrderRoute = createRoute({ getParentRoute: () => adminRoute, path: "/orders/$id", component: page.adminOrder });
export const adminOrdersRoute = createRoute({ getParentRoute: () => adminRoute, path: "/orders", validateSearch: adminOrdersSearch, component: page.adminOrders });
const adminChildren = [
  adminDashboardRoute,
  adminProductsRoute,
  adminProductRoute,
  adminOrdersRoute,
  adminOrderRoute,
  adminFulfillmentsRoute,
  adminPromotionsRoute,
  adminShippingRoute,
  adminCustomersRoute,
  adminSupportRoute,
  adminSearchRoute,
  adminEventsRoute,
  adminWebhooksRoute,
  adminAuditRoute,
] as const;

const routeTree = rootRoute.addChildren([
  homeRoute,
  searchRoute,
  productRoute,
  loginRoute,
  registerRoute,
  verifyRoute,
  forgotRoute,
  resetRoute,
  cartRoute,
  checkoutRoute,
  ordersRoute,
  orderRoute,
  accountRoute,
  chatRoute,
  adminRoute.addChildren(adminChildren),
]);

export const router = createRouter({ routeTree, defaultPreload: "intent" });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
