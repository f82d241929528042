import { Link } from "@tanstack/react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { QueryError } from "../QueryError";
import "./admin.css";

const statusLabel = { unverified: "Unverified", active: "Active", disabled: "Disabled" } as const;

// CustomersAdmin lists the accounts, newest pages on demand, each with a
// link to its orders (the orders list filtered by user_id).
//
// GET /api/v1/admin/users has no text query yet, so there is no search
// box; GET /api/v1/admin/orders has no user_id filter yet, so a
// customer's orders open on the orders page (which keeps user_id in its
// URL) rather than here.
export function CustomersAdmin() {
  const users = useInfiniteQuery({
    queryKey: ["admin", "users"],
    queryFn: async ({ pageParam, signal }) => unwrap(await api.GET("/api/v1/admin/users", { params: { query: { limit: 50, cursor: pageParam } }, signal })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    staleTime: 0,
  });
  const rows = users.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section className="admin-page">
      <h1>Customers</h1>
      {users.error ? <QueryError error={users.error} /> : null}
      {users.isPending ? <p role="status">Loading…</p> : null}
      {users.isSuccess ? (
        <>
          <div className="admin-table-wrap">
            <table className="admin-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Joined</th>
                  <th scope="col">
                    <span className="visually-hidden">Orders</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((u) => (
                  <tr key={u.id} className={u.status === "disabled" ? "inactive" : undefined}>
                    <th scope="row">{u.name || <span className="muted">(no name)</span>}</th>
                    <td>{u.email}</td>
                    <td>{u.role === "admin" ? "Admin" : "Customer"}</td>
                    <td>
                      <span className={u.status === "active" ? "badge ok" : "badge off"}>{statusLabel[u.status]}</span>
                    </td>
                    <td>{new Date(u.created_at).toLocaleDateString()}</td>
                    <td>
                      <Link to="/admin/orders" search={{ user_id: u.id }} aria-label={`Orders of ${u.name || u.email}`}>
                        Orders
                      </Link>
                    </td>
                  </tr>
                ))}
                {rows.length === 0 ? (
                  <tr>
                    <td colSpan={6} className="muted">
                      No customers yet.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          {users.hasNextPage ? (
            <p className="admin-more">
              <button type="button" onClick={() => void users.fetchNextPage()} disabled={users.isFetchingNextPage}>
                {users.isFetchingNextPage ? "Loading…" : "Load more"}
              </button>
            </p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
