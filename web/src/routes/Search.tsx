import { Link, useNavigate } from "@tanstack/react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { searchRoute } from "../router";
import { searchQuery } from "./queries";
import { ProductCard } from "./ProductCard";
import { QueryError } from "./QueryError";

export interface SearchParams {
  q?: string | undefined;
  category?: string | undefined;
  brand?: string | undefined;
  sort?: "relevance" | "price_asc" | "price_desc" | "newest" | undefined;
  cursor?: string | undefined;
  min_price?: number | undefined;
  max_price?: number | undefined;
}

const PAGE = 24;

export function SearchPage() {
  const s = searchRoute.useSearch();
  const navigate = useNavigate({ from: "/search" });
  const r = useQuery({ ...searchQuery({ ...s, limit: PAGE }), placeholderData: keepPreviousData });
  const title = s.q ? `Results for “${s.q}”` : "All products";

  return (
    <>
      <h1>{title}</h1>
      <div className="search-layout">
        <aside aria-label="Filters" className="facets">
          {r.data ? (
            <>
              <Facet title="Category" name="category" counts={r.data.facets.category} active={s.category} />
              <Facet title="Brand" name="brand" counts={r.data.facets.brand} active={s.brand} />
            </>
          ) : null}
        </aside>
        <section aria-label="Results">
          <div className="toolbar">
            <p role="status">{r.data ? `${r.data.total} ${r.data.total === 1 ? "product" : "products"}` : r.isPending ? "Searching…" : ""}</p>
            <label>
              Sort by{" "}
              <select
                value={s.sort ?? "relevance"}
                onChange={(e) => void navigate({ search: (prev) => ({ ...prev, sort: e.target.value as SearchParams["sort"], cursor: undefined }) })}
              >
                <option value="relevance">Relevance</option>
                <option value="price_asc">Price: low to high</option>
                <option value="price_desc">Price: high to low</option>
                <option value="newest">Newest</option>
              </select>
            </label>
          </div>
          {r.error ? <QueryError error={r.error} /> : null}
          {r.data && r.data.hits.length === 0 ? <p>No products match your search.</p> : null}
          <div className="grid">
            {r.data?.hits.map((p) => (
              <ProductCard key={p.id} product={p} />
            ))}
          </div>
          <nav aria-label="Pagination" className="pager">
            {s.cursor ? (
              <Link from="/search" search={(prev) => ({ ...prev, cursor: undefined })}>
                First page
              </Link>
            ) : null}
            {r.data?.next_cursor ? (
              <Link from="/search" search={(prev) => ({ ...prev, cursor: r.data.next_cursor ?? undefined })}>
                Next page
              </Link>
            ) : null}
          </nav>
        </section>
      </div>
    </>
  );
}

function Facet({ title, name, counts, active }: { title: string; name: "category" | "brand"; counts: Record<string, number>; active: string | undefined }) {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return null;
  return (
    <section>
      <h2>{title}</h2>
      <ul>
        {entries.map(([value, n]) => (
          <li key={value}>
            <Link
              from="/search"
              search={(prev) => ({ ...prev, [name]: active === value ? undefined : value, cursor: undefined })}
              aria-current={active === value ? "true" : undefined}
            >
              {value} <span className="muted">({n})</span>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
