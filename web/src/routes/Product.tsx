import { useState, type FormEvent } from "react";
import { useNavigate } from "@tanstack/react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { formatMoney } from "../money";
import { productRoute } from "../router";
import { useSession } from "../session";
import { cartQuery, productQuery } from "./queries";
import { QueryError } from "./QueryError";

export function ProductPage() {
  const { id } = productRoute.useParams();
  const r = useQuery(productQuery(id));
  const session = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [qty, setQty] = useState(1);
  const add = useMutation({
    mutationFn: async (quantity: number) => unwrap(await api.POST("/api/v1/cart/items", { body: { product_id: id, quantity } })),
    onSuccess: (cart) => qc.setQueryData(cartQuery.queryKey, cart),
  });

  if (r.isPending) return <p role="status">Loading…</p>;
  if (r.error) return <QueryError error={r.error} />;
  const p = r.data;
  const available = p.stock.available;
  const max = Math.max(1, Math.min(99, available));

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!session) {
      void navigate({ to: "/login", search: { redirect: `/products/${id}` } });
      return;
    }
    add.mutate(qty);
  }

  return (
    <article className="product" aria-labelledby="product-name">
      <div className="product-media">{p.images[0] ? <img src={p.images[0]} alt={p.name} /> : <div className="card-noimg" aria-hidden="true" />}</div>
      <div className="product-info">
        <h1 id="product-name">{p.name}</h1>
        {p.brand ? <p className="muted">{p.brand}</p> : null}
        <p className="price big">{formatMoney(p.price, p.currency)}</p>
        <p className={available > 0 ? "stock in" : "stock out"}>
          {available <= 0 ? "Out of stock" : available < 5 ? `Only ${available} left in stock` : "In stock"}
        </p>
        {p.description ? <p>{p.description}</p> : null}
        <form onSubmit={onSubmit} className="add-form">
          <label htmlFor="qty">Quantity</label>
          <input id="qty" type="number" inputMode="numeric" min={1} max={max} value={qty} onChange={(e) => setQty(Math.max(1, Math.min(max, Number(e.target.value) || 1)))} />
          <button type="submit" disabled={available <= 0 || add.isPending}>
            Add to cart
          </button>
        </form>
        {!session ? <p className="muted">You will be asked to sign in first.</p> : null}
        {add.isSuccess ? <p role="status">Added to cart.</p> : null}
        {add.error ? <QueryError error={add.error} /> : null}
      </div>
    </article>
  );
}
