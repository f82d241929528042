import { Link, Outlet } from "@tanstack/react-router";
import "./admin-layout.css";

const sections = [
  { to: "/admin", label: "Dashboard", exact: true },
  { to: "/admin/products", label: "Products" },
  { to: "/admin/orders", label: "Orders" },
  { to: "/admin/fulfillments", label: "Fulfillments" },
  { to: "/admin/promotions", label: "Promotions" },
  { to: "/admin/shipping", label: "Shipping" },
  { to: "/admin/customers", label: "Customers" },
  { to: "/admin/support", label: "Support" },
  { to: "/admin/search", label: "Search insights" },
  { to: "/admin/events", label: "Events" },
  { to: "/admin/webhooks", label: "Webhooks" },
  { to: "/admin/audit", label: "Audit log" },
] as const;

// AdminLayout frames every admin page: the console's navigation (its link
// names are a contract for browser tests) beside the page.
export function AdminLayout() {
  return (
    <div className="admin">
      <nav className="admin-nav" aria-label="Admin">
        <ul>
          {sections.map((s) => (
            <li key={s.to}>
              <Link to={s.to} activeOptions={{ exact: "exact" in s }} activeProps={{ "aria-current": "page", className: "active" }}>
                {s.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="admin-main">
        <Outlet />
      </div>
    </div>
  );
}
