import { useId, useState } from "react";
import { Link, useNavigate } from "@tanstack/react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import type { operations } from "../../api/schema";
import { formatMoney } from "../../money";
import { Field } from "../Field";
import { QueryError } from "../QueryError";
import type { Product } from "../queries";
import "./admin.css";

type Status = NonNullable<NonNullable<operations["getProducts"]["parameters"]["query"]>["status"]>;

interface Filters {
  category: string;
  brand: string;
  status: Status;
}

const PAGE = 100;

// The product page invalidates ["admin", "products"] after a save.
const productsListKey = ["admin", "products"] as const;

// matches is the search box: GET /api/v1/products has no text query (and
// the storefront's /search would count the admin's searches in the search
// insights), so it narrows the loaded rows by name, SKU or brand.
function matches(p: Product, q: string): boolean {
  const s = q.trim().toLowerCase();
  if (s === "") return true;
  return p.name.toLowerCase().includes(s) || p.sku.toLowerCase().includes(s) || p.brand.toLowerCase().includes(s);
}

// ProductsAdmin lists the catalog (active, archived or both) with its
// stock, filtered by category and brand on the server and by a search
// box over the loaded rows.
export function ProductsAdmin() {
  const navigate = useNavigate();
  const statusId = useId();
  const [draft, setDraft] = useState<Filters>({ category: "", brand: "", status: "all" });
  const [filters, setFilters] = useState<Filters>(draft);
  const [q, setQ] = useState("");

  const list = useInfiniteQuery({
    queryKey: [...productsListKey, filters],
    queryFn: async ({ pageParam, signal }) =>
      unwrap(
        await api.GET("/api/v1/products", {
          params: {
            query: {
              status: filters.status,
              category: filters.category.trim().toLowerCase() || undefined,
              brand: filters.brand.trim() || undefined,
              cursor: pageParam,
              limit: PAGE,
            },
          },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    staleTime: 0,
  });

  const all = list.data?.pages.flatMap((p) => p.items) ?? [];
  const rows = all.filter((p) => matches(p, q));

  return (
    <section className="admin-page">
      <div className="admin-head">
        <h1>Products</h1>
        <button type="button" onClick={() => void navigate({ to: "/admin/products/$id", params: { id: "new" } })}>
          New product
        </button>
      </div>

      <form
        className="admin-filters"
        role="search"
        aria-label="Filter products"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <Field label="Search" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Name, SKU or brand" />
        <Field label="Category" value={draft.category} onChange={(e) => setDraft({ ...draft, category: e.target.value })} />
        <Field label="Brand" value={draft.brand} onChange={(e) => setDraft({ ...draft, brand: e.target.value })} />
        <div className="field">
          <label htmlFor={statusId}>Status</label>
          <select
            id={statusId}
            value={draft.status}
            onChange={(e) => {
              const next = { ...draft, status: e.target.value as Status };
              setDraft(next);
              setFilters(next);
            }}
          >
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="archived">Archived</option>
          </select>
        </div>
        <button type="submit">Filter</button>
      </form>

      {list.error ? <QueryError error={list.error} /> : null}
      {list.isPending ? <p role="status">Loading…</p> : null}
      {list.isSuccess ? (
        <>
          <p className="admin-note" role="status">
            {q.trim() !== "" ? `${rows.length} of ${all.length} loaded products match.` : `${all.length} product${all.length === 1 ? "" : "s"}${list.hasNextPage ? " loaded" : ""}.`}
          </p>
          <div className="admin-table-wrap">
            <table className="admin-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">SKU</th>
                  <th scope="col" className="num">
                    Price
                  </th>
                  <th scope="col" className="num">
                    Available
                  </th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.id} className={p.status === "archived" ? "inactive" : undefined}>
                    <td>
                      <Link to="/admin/products/$id" params={{ id: p.id }}>
                        {p.name}
                      </Link>
                    </td>
                    <td>{p.sku}</td>
                    <td className="num">{formatMoney(p.price, p.currency)}</td>
                    <td className="num">{p.stock.available}</td>
                    <td>
                      <span className={p.status === "active" ? "badge ok" : "badge off"}>{p.status === "active" ? "Active" : "Archived"}</span>
                    </td>
                  </tr>
                ))}
                {rows.length === 0 ? (
                  <tr>
                    <td colSpan={5} className="muted">
                      No products match.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          {list.hasNextPage ? (
            <p className="admin-more">
              <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
                {list.isFetchingNextPage ? "Loading…" : "Load more"}
              </button>
            </p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
