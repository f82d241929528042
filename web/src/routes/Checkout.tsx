import { useRef, useState } from "react";
import { Link, useNavigate } from "@tanstack/react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm, useStore } from "@tanstack/react-form";
import { api } from "../api/client";
import { ProblemError, unwrap } from "../api/problem";
import { formatMoney } from "../money";
import { Field } from "./Field";
import { QueryError } from "./QueryError";
import { cartQuery, type Cart } from "./queries";
import { addressesQuery, courierLabel, gatewaysQuery, ordersKey, type Address, type Courier, type Gateway } from "./orderQueries";
import "./orders.css";
import { addressFormat } from "./address";
import { useDebounced } from "../useDebounced";
import { required } from "./form";

const NEW = "new";

type AddressKey = "label" | "line1" | "line2" | "city" | "region" | "postal_code" | "country" | "phone";
type AddressValues = Record<AddressKey, string>;

interface Values {
  addressId: string;
  address: AddressValues;
  save: boolean;
  courier: Courier;
  gateway: Gateway["name"];
}

// The server's rules (platform/address): line1, city, postal_code and
// country are required; their formats are checked as the account's
// address book checks them.
const countryFormat = (v: string) => addressFormat("country", v);
const phoneFormat = (v: string) => addressFormat("phone", v);

interface AddressFieldSpec {
  key: AddressKey;
  label: string;
  autoComplete: string;
  onChange?: (v: string) => string | undefined;
  onBlur?: (v: string) => string | undefined;
  type?: string;
  inputMode?: "text" | "tel";
  placeholder?: string;
  maxLength?: number;
}

const addressFields: AddressFieldSpec[] = [
  { key: "label", label: "Name", autoComplete: "name" },
  { key: "line1", label: "Address line 1", autoComplete: "address-line1", onChange: required("Address line 1") },
  { key: "line2", label: "Address line 2", autoComplete: "address-line2" },
  { key: "city", label: "City", autoComplete: "address-level2", onChange: required("City") },
  { key: "region", label: "Region", autoComplete: "address-level1" },
  { key: "postal_code", label: "Postal code", autoComplete: "postal-code", onChange: required("Postal code") },
  { key: "country", label: "Country", autoComplete: "country", onChange: required("Country"), onBlur: countryFormat, placeholder: "e.g. US", maxLength: 2 },
  { key: "phone", label: "Phone", autoComplete: "tel", type: "tel", inputMode: "tel", onBlur: phoneFormat },
];

const emptyAddress: AddressValues = { label: "", line1: "", line2: "", city: "", region: "", postal_code: "", country: "", phone: "" };

function cleanAddress(a: AddressValues): AddressValues {
  const out = { ...a };
  for (const k of Object.keys(out) as AddressKey[]) out[k] = out[k].trim();
  out.country = out.country.toUpperCase();
  return out;
}

function addressLine(a: Address): string {
  return [a.label, a.line1, a.line2, a.city, a.region, a.postal_code, a.country].filter((s) => s && s.trim() !== "").join(", ");
}


export function CheckoutPage() {
  const cart = useQuery(cartQuery);
  const addresses = useQuery(addressesQuery);
  const gateways = useQuery(gatewaysQuery);

  if (cart.isPending || addresses.isPending || gateways.isPending) return <p role="status">Loading checkout…</p>;
  const err = cart.error ?? addresses.error ?? gateways.error;
  if (err) return <QueryError error={err} />;
  if (!cart.data || !addresses.data || !gateways.data) return null;
  if (cart.data.items.length === 0) {
    return (
      <section className="checkout">
        <h1>Checkout</h1>
        <p>
          Your cart is empty. <Link to="/">Continue shopping</Link>
        </p>
      </section>
    );
  }
  return <CheckoutForm cart={cart.data} addresses={addresses.data} gateways={gateways.data} />;
}

interface Attempt {
  body: string; // the checkout request it belongs to
  orderKey: string; // Idempotency-Key of POST /orders
  sessionId?: string;
}

function CheckoutForm({ cart, addresses, gateways }: { cart: Cart; addresses: Address[]; gateways: Gateway[] }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [serverErrs, setServerErrs] = useState<Record<string, string>>({});
  // One checkout attempt: a double click, or a retry after a lost
  // response, reuses its session and Idempotency-Key, so it never places
  // two orders. A failure the server answered starts a fresh attempt.
  const attempt = useRef<Attempt | null>(null);
  const inFlight = useRef(false);

  const initialAddress = addresses.find((a) => a.is_default) ?? addresses[0];
  const firstGateway = gateways[0];

  const place = useMutation({
    mutationFn: async (v: Values) => {
      const isNew = v.addressId === NEW;
      const address = cleanAddress(v.address);
      const body = isNew
        ? { address, courier: v.courier, payment_gateway: v.gateway }
        : { address_id: v.addressId, courier: v.courier, payment_gateway: v.gateway };
      const bodyKey = JSON.stringify(body);
      if (!attempt.current || attempt.current.body !== bodyKey) attempt.current = { body: bodyKey, orderKey: crypto.randomUUID() };
      const a = attempt.current;
      if (!a.sessionId) {
        const s = unwrap(await api.POST("/api/v1/checkout", { body }));
        a.sessionId = s.checkout_session_id;
      }
      const order = unwrap(
        await api.POST("/api/v1/orders", { params: { header: { "Idempotency-Key": a.orderKey } }, body: { checkout_session_id: a.sessionId } }),
      );
      if (isNew && v.save) {
        // The order stands either way: saving the address is a convenience.
        try {
          await api.POST("/api/v1/me/addresses", { body: address });
        } catch {
          /* ignored */
        }
      }
      return order;
    },
    onMutate: () => setServerErrs({}),
    onError: (e) => {
      if (e instanceof ProblemError) {
        attempt.current = null;
        const errs: Record<string, string> = {};
        for (const fe of e.errors) errs[fe.field] ??= fe.message;
        setServerErrs(errs);
      }
    },
    onSuccess: (order) => {
      attempt.current = null;
      void qc.invalidateQueries({ queryKey: cartQuery.queryKey });
      void qc.invalidateQueries({ queryKey: ordersKey });
      void qc.invalidateQueries({ queryKey: addressesQuery.queryKey });
      void navigate({ to: "/orders/$id", params: { id: order.id } });
    },
    onSettled: () => {
      inFlight.current = false;
    },
  });

  const form = useForm({
    defaultValues: {
      addressId: initialAddress?.id ?? NEW,
      address: emptyAddress,
      save: addresses.length === 0,
      courier: "standard",
      gateway: firstGateway?.name ?? "test",
    } as Values,
    onSubmit: ({ value }) => {
      if (inFlight.current) return;
      inFlight.current = true;
      place.mutate(value);
    },
  });

  const addressId = useStore(form.store, (s) => s.values.addressId);
  const country = useStore(form.store, (s) => s.values.address.country);
  const postal = useStore(form.store, (s) => s.values.address.postal_code);
  const courier = useStore(form.store, (s) => s.values.courier);
  const isNew = addressId === NEW;
  const saved = addresses.find((a) => a.id === addressId);

  // The live shipping quote for the chosen courier and destination.
  const dest = isNew ? { country: country.trim().toUpperCase(), postal_code: postal.trim() } : { country: saved?.country ?? "", postal_code: saved?.postal_code ?? "" };
  const items = cart.items.filter((l) => !l.flags.includes("unknown_product")).map((l) => ({ product_id: l.product_id, quantity: l.quantity }));
  const quoteIn = useDebounced({ ...dest, courier, items }, 400);
  const quote = useQuery({
    queryKey: ["shipping-quote", quoteIn],
    queryFn: async ({ signal }) =>
      unwrap(
        await api.POST("/api/v1/shipping/quote", {
          body: { address: { country: quoteIn.country, postal_code: quoteIn.postal_code || undefined }, items: quoteIn.items, courier: quoteIn.courier },
          signal,
        }),
      ),
    enabled: /^[A-Z]{2}$/.test(quoteIn.country) && quoteIn.items.length > 0,
    retry: false,
    staleTime: 60_000,
  });
  const quoteStale = quoteIn.country !== dest.country || quoteIn.postal_code !== dest.postal_code || quoteIn.courier !== courier;
  const q = quoteStale ? undefined : quote.data;
  const quoteErr = !quoteStale && quote.error instanceof ProblemError ? quote.error : undefined;

  const fieldServerError = (k: AddressKey): string | undefined => serverErrs[`address.${k}`] ?? serverErrs[k] ?? (isNew ? quoteErr?.fieldError(`address.${k}`) : undefined);
  const shownFields = new Set<string>(isNew ? addressFields.map((f) => `address.${f.key}`) : []);
  const otherErrors = Object.entries(serverErrs)
    .filter(([f]) => !shownFields.has(f) && !(isNew && shownFields.has(`address.${f}`)))
    .map(([, m]) => m);

  const cur = cart.currency ?? q?.currency;
  const blocked = cart.items.some((l) => l.flags.length > 0);

  return (
    <section className="checkout">
      <h1>Checkout</h1>
      <form
        noValidate
        className="cart-layout checkout-layout"
        onSubmit={(e) => {
          e.preventDefault();
          e.stopPropagation();
          void form.handleSubmit();
        }}
      >
        <div className="checkout-main">
          <PlaceAlert error={place.error} other={otherErrors} />

          {addresses.length === 0 ? (
            <h2 className="co-h">Delivery address</h2>
          ) : (
            <form.Field name="addressId">
              {(field) => (
                <fieldset className="choices">
                  <legend>Delivery address</legend>
                  {addresses.map((a) => (
                    <label key={a.id} className="choice">
                      <input type="radio" name="address_id" value={a.id} checked={field.state.value === a.id} onChange={() => field.handleChange(a.id)} />
                      <span>{addressLine(a)}</span>
                    </label>
                  ))}
                  <label className="choice">
                    <input type="radio" name="address_id" value={NEW} checked={field.state.value === NEW} onChange={() => field.handleChange(NEW)} />
                    <span>New address</span>
                  </label>
                </fieldset>
              )}
            </form.Field>
          )}

          {isNew ? (
            <div className="address-form" role="group" aria-label="New address">
              {addressFields.map((spec) => (
                <form.Field
                  key={spec.key}
                  name={`address.${spec.key}`}
                  validators={{
                    onChange: ({ value }) => (spec.onChange && form.getFieldValue("addressId") === NEW ? spec.onChange(value) : undefined),
                    onBlur: ({ value }) => (spec.onBlur && form.getFieldValue("addressId") === NEW ? spec.onBlur(value) : undefined),
                  }}
                >
                  {(field) => {
                    const clientErr = field.state.meta.errors.find((m): m is string => typeof m === "string" && m !== "");
                    return (
                      <div className={`af-${spec.key}`}>
                        <Field
                          label={spec.label}
                          name={spec.key}
                          autoComplete={spec.autoComplete}
                          type={spec.type ?? "text"}
                          inputMode={spec.inputMode}
                          placeholder={spec.placeholder}
                          maxLength={spec.maxLength}
                          required={spec.onChange !== undefined}
                          value={field.state.value}
                          onBlur={field.handleBlur}
                          onChange={(e) => {
                            field.handleChange(e.target.value);
                            if (serverErrs[`address.${spec.key}`] || serverErrs[spec.key]) {
                              setServerErrs((s) => {
                                const n = { ...s };
                                delete n[`address.${spec.key}`];
                                delete n[spec.key];
                                return n;
                              });
                            }
                          }}
                          error={clientErr ?? fieldServerError(spec.key)}
                        />
                      </div>
                    );
                  }}
                </form.Field>
              ))}
              <form.Field name="save">
                {(field) => (
                  <label className="checkbox af-save">
                    <input type="checkbox" checked={field.state.value} onChange={(e) => field.handleChange(e.target.checked)} /> Save this address
                  </label>
                )}
              </form.Field>
            </div>
          ) : null}

          <form.Field name="courier">
            {(field) => (
              <fieldset className="choices">
                <legend>Delivery</legend>
                {(["standard", "express"] as const).map((c) => (
                  <label key={c} className="choice">
                    <input type="radio" name="courier" value={c} checked={field.state.value === c} onChange={() => field.handleChange(c)} />
                    <span>{courierLabel[c]}</span>
                  </label>
                ))}
                {serverErrs.courier ? <p className="field-error">{serverErrs.courier}</p> : null}
              </fieldset>
            )}
          </form.Field>

          <form.Field name="gateway">
            {(field) => (
              <fieldset className="choices">
                <legend>Payment method</legend>
                {gateways.length === 0 ? <p className="error">No payment method is available right now.</p> : null}
                {gateways.map((g) => (
                  <label key={g.name} className="choice">
                    <input type="radio" name="payment_gateway" value={g.name} checked={field.state.value === g.name} onChange={() => field.handleChange(g.name)} />
                    <span>{g.display_name}</span>
                  </label>
                ))}
              </fieldset>
            )}
          </form.Field>
        </div>

        <aside className="summary" aria-labelledby="co-sum-h">
          <h2 id="co-sum-h">Order summary</h2>
          <ul className="co-lines" aria-label="Items">
            {cart.items.map((l) => (
              <li key={l.product_id}>
                <span>
                  {l.name} × {l.quantity}
                </span>
                <span className="price">{formatMoney(l.line_total, cur)}</span>
              </li>
            ))}
          </ul>
          {blocked ? (
            <p className="error">
              Some items need your attention. <Link to="/cart">Review your cart</Link>
            </p>
          ) : null}
          <dl className="totals">
            <dt>Subtotal</dt>
            <dd>{formatMoney(cart.subtotal, cur)}</dd>
            {cart.discount > 0 ? (
              <>
                <dt>Discount</dt>
                <dd>−{formatMoney(cart.discount, cur)}</dd>
              </>
            ) : null}
            <dt>
              Shipping
              {q ? (
                <span className="muted co-eta">
                  {" "}
                  ({courierLabel[q.courier]}, {q.eta_days} {q.eta_days === 1 ? "day" : "days"})
                </span>
              ) : null}
            </dt>
            <dd aria-live="polite">{q ? formatMoney(q.cost, q.currency) : quote.isFetching || quoteStale ? "Calculating…" : "—"}</dd>
            <dt className="total">Total</dt>
            <dd className="total">{formatMoney(cart.total + (q?.cost ?? 0), cur)}</dd>
          </dl>
          {quoteErr && !quoteErr.errors.some((e) => e.field.startsWith("address.")) ? (
            <p className="error" role="alert">
              {quoteErr.message}
            </p>
          ) : null}
          {!q && !quoteErr ? <p className="muted">Shipping is added once we know where it goes.</p> : null}
          <form.Subscribe selector={(s) => s.isSubmitting}>
            {(submitting) => (
              <button type="submit" className="co-place" disabled={submitting || place.isPending || blocked || gateways.length === 0}>
                Place order
              </button>
            )}
          </form.Subscribe>
          {place.isPending ? (
            <p role="status" className="muted">
              Placing your order…
            </p>
          ) : null}
        </aside>
      </form>
    </section>
  );
}

function PlaceAlert({ error, other }: { error: unknown; other: string[] }) {
  if (!error) return null;
  if (error instanceof ProblemError) {
    if (error.code === "insufficient_stock") {
      return (
        <p role="alert" className="error">
          {error.message} <Link to="/cart">Review your cart</Link>
        </p>
      );
    }
    if (error.errors.length > 0 && other.length === 0) {
      return (
        <p role="alert" className="error">
          Please correct the errors below.
        </p>
      );
    }
    return (
      <p role="alert" className="error">
        {other.length > 0 ? other.join(" ") : error.message}
      </p>
    );
  }
  return (
    <p role="alert" className="error">
      Something went wrong. Please try again.
    </p>
  );
}
