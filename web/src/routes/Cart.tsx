import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate } from "@tanstack/react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { formatMoney } from "../money";
import { cartQuery, type Cart } from "./queries";
import { QueryError } from "./QueryError";

type Line = Cart["items"][number];

const flagText: Record<Line["flags"][number], string> = {
  archived: "No longer sold",
  insufficient_stock: "Not enough in stock",
  unknown_product: "Product not found",
};

function useCartMutation<V>(fn: (v: V) => Promise<Cart>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSuccess: (cart) => qc.setQueryData(cartQuery.queryKey, cart) });
}

export function CartPage() {
  const navigate = useNavigate();
  const r = useQuery(cartQuery);
  const setQty = useCartMutation(async ({ id, quantity }: { id: string; quantity: number }) =>
    unwrap(await api.PATCH("/api/v1/cart/items/{product_id}", { params: { path: { product_id: id } }, body: { quantity } })),
  );
  const remove = useCartMutation(async (id: string) => unwrap(await api.DELETE("/api/v1/cart/items/{product_id}", { params: { path: { product_id: id } } })));

  if (r.isPending) return <p role="status">Loading your cart…</p>;
  if (r.error) return <QueryError error={r.error} />;
  const cart = r.data;
  const cur = cart.currency;

  return (
    <>
      <h1>Your cart</h1>
      {cart.items.length === 0 ? (
        <p>
          Your cart is empty. <Link to="/">Continue shopping</Link>
        </p>
      ) : (
        <div className="cart-layout">
          <ul className="cart-lines" aria-label="Cart items">
            {cart.items.map((l) => (
              <li key={l.product_id} className="cart-line">
                <div>
                  <Link to="/products/$id" params={{ id: l.product_id }} className="line-name">
                    {l.name}
                  </Link>
                  <p className="muted">{formatMoney(l.unit_price, cur)} each</p>
                  {l.flags.map((f) => (
                    <p key={f} className="field-error">
                      {flagText[f]}
                    </p>
                  ))}
                </div>
                <LineQuantity line={l} onChange={(quantity) => setQty.mutate({ id: l.product_id, quantity })} />
                <p className="price">{formatMoney(l.line_total, cur)}</p>
                <button type="button" className="link" onClick={() => remove.mutate(l.product_id)} disabled={remove.isPending}>
                  Remove<span className="visually-hidden"> {l.name}</span>
                </button>
              </li>
            ))}
          </ul>
          {setQty.error ? <QueryError error={setQty.error} /> : null}
          {remove.error ? <QueryError error={remove.error} /> : null}
          <aside className="summary" aria-labelledby="sum-h">
            <h2 id="sum-h">Summary</h2>
            <Promo cart={cart} />
            <dl className="totals">
              <dt>Subtotal</dt>
              <dd>{formatMoney(cart.subtotal, cur)}</dd>
              {cart.discount > 0 ? (
                <>
                  <dt>Discount</dt>
                  <dd>−{formatMoney(cart.discount, cur)}</dd>
                </>
              ) : null}
              <dt className="total">Total</dt>
              <dd className="total">{formatMoney(cart.total, cur)}</dd>
            </dl>
            <p className="muted">Shipping is calculated at checkout.</p>
            {/* Lines the shop cannot sell (archived, short of stock) must be fixed first. */}
            <button type="button" className="wide" disabled={cart.items.some((l) => l.flags.length > 0)} onClick={() => void navigate({ to: "/checkout" })}>
              Checkout
            </button>
          </aside>
        </div>
      )}
    </>
  );
}

// LineQuantity edits one line's quantity and sends it once the shopper
// pauses (spinbutton arrows fire a change per step).
function LineQuantity({ line, onChange }: { line: Line; onChange: (q: number) => void }) {
  const [value, setValue] = useState(line.quantity);
  useEffect(() => setValue(line.quantity), [line.quantity]);
  useEffect(() => {
    if (value === line.quantity || value < 1) return;
    const t = setTimeout(() => onChange(value), 400);
    return () => clearTimeout(t);
    // onChange is a fresh closure each render; the value is what matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, line.quantity]);
  const id = `qty-${line.product_id}`;
  return (
    <div className="field inline">
      <label htmlFor={id}>
        Quantity<span className="visually-hidden"> of {line.name}</span>
      </label>
      <input id={id} type="number" inputMode="numeric" min={1} max={99} value={value} onChange={(e) => setValue(Math.max(1, Math.min(99, Number(e.target.value) || 1)))} />
    </div>
  );
}

function Promo({ cart }: { cart: Cart }) {
  const [code, setCode] = useState("");
  const apply = useCartMutation(async (c: string) => unwrap(await api.POST("/api/v1/cart/promo", { body: { code: c } })));
  const clear = useCartMutation(async () => unwrap(await api.DELETE("/api/v1/cart/promo")));
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (code.trim()) apply.mutate(code.trim());
  }
  return (
    <div className="promo">
      {cart.promo_code ? (
        <p>
          Promo <strong>{cart.promo_code}</strong>{" "}
          <button type="button" className="link" onClick={() => clear.mutate()}>
            Remove promo code
          </button>
        </p>
      ) : null}
      {cart.promo_error ? (
        <p role="alert" className="error">
          {cart.promo_error}
        </p>
      ) : null}
      <form onSubmit={onSubmit} className="promo-form">
        <label htmlFor="promo">Promo code</label>
        <input id="promo" value={code} autoComplete="off" onChange={(e) => setCode(e.target.value)} />
        <button type="submit" disabled={apply.isPending}>
          Apply
        </button>
      </form>
      {apply.error ? <QueryError error={apply.error} /> : null}
    </div>
  );
}
