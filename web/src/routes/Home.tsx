import { Link } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { searchQuery } from "./queries";
import { ProductCard } from "./ProductCard";
import { QueryError } from "./QueryError";

export function HomePage() {
  const r = useQuery(searchQuery({ limit: 12 }));
  const categories = Object.entries(r.data?.facets.category ?? {}).sort((a, b) => b[1] - a[1]);
  return (
    <>
      <h1>Welcome to the shop</h1>
      {r.isPending ? <p role="status">Loading…</p> : null}
      {r.error ? <QueryError error={r.error} /> : null}
      {categories.length > 0 ? (
        <section aria-labelledby="cat-h">
          <h2 id="cat-h">Categories</h2>
          <ul className="chips">
            {categories.map(([name, n]) => (
              <li key={name}>
                <Link to="/search" search={{ category: name }}>
                  {name} <span className="muted">({n})</span>
                </Link>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {r.data ? (
        <section aria-labelledby="feat-h">
          <h2 id="feat-h">Featured products</h2>
          {r.data.hits.length === 0 ? <p>No products yet.</p> : null}
          <div className="grid">
            {r.data.hits.map((p) => (
              <ProductCard key={p.id} product={p} />
            ))}
          </div>
        </section>
      ) : null}
    </>
  );
}
