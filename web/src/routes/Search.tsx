import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate } from "@tanstack/react-router";
import { formatMoney, toMajor, toMinor } from "../money";
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
              <PriceFacet counts={r.data.facets.price} currency={r.data.hits[0]?.currency ?? "USD"} min={s.min_price} max={s.max_price} />
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

// Price buckets as the search API labels them ("2500-5000", "50000+"):
// minor units, [from, to).
function parseBucket(label: string): { from: number; to?: number } | null {
  const m = /^(\d+)(?:-(\d+)|\+)$/.exec(label);
  if (!m) return null;
  return m[2] ? { from: Number(m[1]), to: Number(m[2]) } : { from: Number(m[1]) };
}

function bucketText(b: { from: number; to?: number }, currency: string): string {
  return b.to === undefined ? `${formatMoney(b.from, currency)} and up` : `${formatMoney(b.from, currency)} – ${formatMoney(b.to, currency)}`;
}

// PriceFacet: the buckets with their counts, and a free range (in major
// units, as shoppers think of prices; sent in minor units).
function PriceFacet({ counts, currency, min, max }: { counts: Record<string, number>; currency: string; min: number | undefined; max: number | undefined }) {
  const navigate = useNavigate({ from: "/search" });
  const [lo, setLo] = useState(min === undefined ? "" : toMajor(min, currency));
  const [hi, setHi] = useState(max === undefined ? "" : toMajor(max + 1, currency));
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => setLo(min === undefined ? "" : toMajor(min, currency)), [min, currency]);
  useEffect(() => setHi(max === undefined ? "" : toMajor(max + 1, currency)), [max, currency]);
  const buckets = Object.entries(counts)
    .map(([label, n]) => ({ b: parseBucket(label), n }))
    .filter((x): x is { b: { from: number; to?: number }; n: number } => x.b !== null && x.n > 0)
    .sort((a, c) => a.b.from - c.b.from);

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    const from = lo.trim() === "" ? undefined : toMinor(lo, currency);
    const to = hi.trim() === "" ? undefined : toMinor(hi, currency);
    if (from === null || to === null) return setErr("Enter prices as numbers, e.g. 25 or 19.99.");
    if (from !== undefined && to !== undefined && to <= from) return setErr("The maximum must be above the minimum.");
    setErr(null);
    void navigate({ search: (prev) => ({ ...prev, min_price: from, max_price: to === undefined ? undefined : to - 1, cursor: undefined }) });
  }

  return (
    <section>
      <h2>Price</h2>
      {buckets.length > 0 ? (
        <ul>
          {buckets.map(({ b, n }) => {
            const active = min === b.from && (b.to === undefined ? max === undefined : max === b.to - 1);
            return (
              <li key={b.from}>
                <Link
                  from="/search"
                  search={(prev) => ({ ...prev, min_price: active ? undefined : b.from, max_price: active || b.to === undefined ? undefined : b.to - 1, cursor: undefined })}
                  aria-current={active ? "true" : undefined}
                >
                  {bucketText(b, currency)} <span className="muted">({n})</span>
                </Link>
              </li>
            );
          })}
        </ul>
      ) : null}
      <form className="price-range" onSubmit={onSubmit} noValidate>
        <div className="field inline">
          <label htmlFor="price-min">Min price</label>
          <input id="price-min" inputMode="decimal" value={lo} onChange={(e) => setLo(e.target.value)} aria-invalid={err ? true : undefined} />
        </div>
        <div className="field inline">
          <label htmlFor="price-max">Max price</label>
          <input id="price-max" inputMode="decimal" value={hi} onChange={(e) => setHi(e.target.value)} aria-invalid={err ? true : undefined} />
        </div>
        <button type="submit">Apply price</button>
        {err ? (
          <p role="alert" className="field-error">
            {err}
          </p>
        ) : null}
      </form>
    </section>
  );
}
