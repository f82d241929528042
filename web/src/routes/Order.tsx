import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link } from "@tanstack/react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm } from "@tanstack/react-form";
import { api } from "../api/client";
import { ProblemError, unwrap } from "../api/problem";
import { subscribeNotifications } from "../live/notifications";
import { formatMoney } from "../money";
import { orderRoute } from "../router";
import { Field } from "./Field";
import { QueryError } from "./QueryError";
import {
  courierLabel,
  formatDate,
  formatDateTime,
  fulfillmentQuery,
  isOrderNotification,
  orderEventsQuery,
  orderKey,
  orderQuery,
  ordersKey,
  shortId,
  statusLabel,
  type Fulfillment,
  type Order,
  type TimelineEntry,
} from "./orderQueries";
import "./orders.css";

// shopperStatus is what the shopper is told: an order whose shipment is
// created but not yet booked with the carrier is still just "Paid" to
// them; "Preparing" starts when the warehouse has it in hand.
export function shopperStatus(o: Order, f: Fulfillment | null | undefined): string {
  if (o.status === "fulfilling" && (!f || f.status === "pending")) return statusLabel.paid;
  return statusLabel[o.status];
}

export function OrderPage() {
  const { id } = orderRoute.useParams();
  const qc = useQueryClient();
  const order = useQuery(orderQuery(id));
  const events = useQuery(orderEventsQuery(id));
  const fulfillment = useQuery(fulfillmentQuery(id));

  // Live: any order-related notification refetches this order (they do
  // not say which order), so the status changes without a reload.
  useEffect(
    () =>
      subscribeNotifications((n) => {
        if (!isOrderNotification(n)) return;
        void qc.invalidateQueries({ queryKey: orderKey(id) });
        void qc.invalidateQueries({ queryKey: ordersKey });
      }),
    [id, qc],
  );

  if (order.isPending) return <p role="status">Loading your order…</p>;
  if (order.error) return <QueryError error={order.error} />;
  const o = order.data;
  const pending = o.status === "pending_payment";

  return (
    <section className="order-page">
      <p className="muted">
        <Link to="/orders">← All orders</Link>
      </p>
      <h1>Order {shortId(o.id)}</h1>
      <p className="order-head">
        <span role="status" aria-label="Order status" className={`order-status st-${o.status}`}>
          {shopperStatus(o, fulfillment.data)}
        </span>
        <span className="muted">Placed {formatDateTime(o.created_at)}</span>
      </p>

      <div className="cart-layout order-layout">
        <div className="order-main">
          {pending ? <PaymentSection order={o} /> : null}

          <section aria-labelledby="items-h">
            <h2 id="items-h">Items</h2>
            <ul className="order-lines">
              {o.items.map((it) => (
                <li key={it.product_id}>
                  <span>
                    <Link to="/products/$id" params={{ id: it.product_id }}>
                      {it.name}
                    </Link>{" "}
                    <span className="muted">
                      × {it.quantity} at {formatMoney(it.unit_price, o.currency)}
                    </span>
                  </span>
                  <span className="price">{formatMoney(it.line_total, o.currency)}</span>
                </li>
              ))}
            </ul>
          </section>

          <div className="order-details">
            <section aria-labelledby="addr-h">
              <h2 id="addr-h">Delivery address</h2>
              <address className="order-address">
                {[o.address.label, o.address.line1, o.address.line2, [o.address.postal_code, o.address.city].filter(Boolean).join(" "), o.address.region, o.address.country, o.address.phone]
                  .filter((s) => s && s.trim() !== "")
                  .map((s, i) => (
                    <span key={i}>{s}</span>
                  ))}
              </address>
            </section>
            <section aria-labelledby="ship-h">
              <h2 id="ship-h">Delivery</h2>
              <p>{courierLabel[o.courier]} shipping</p>
              <Tracking f={fulfillment.data ?? null} />
            </section>
          </div>

          <section aria-labelledby="tl-h">
            <h2 id="tl-h">History</h2>
            {events.error ? <QueryError error={events.error} /> : null}
            {events.data ? <Timeline entries={events.data} currency={o.currency} /> : <p className="muted">Loading…</p>}
          </section>
        </div>

        <aside className="summary" aria-labelledby="ot-h">
          <h2 id="ot-h">Total</h2>
          <dl className="totals">
            <dt>Subtotal</dt>
            <dd>{formatMoney(o.subtotal, o.currency)}</dd>
            {o.discount > 0 ? (
              <>
                <dt>Discount{o.promo_code ? ` (${o.promo_code})` : ""}</dt>
                <dd>−{formatMoney(o.discount, o.currency)}</dd>
              </>
            ) : null}
            <dt>Shipping</dt>
            <dd>{formatMoney(o.shipping_cost, o.currency)}</dd>
            <dt className="total">Total</dt>
            <dd className="total">{formatMoney(o.total, o.currency)}</dd>
            {o.refunded_amount > 0 ? (
              <>
                <dt>Refunded</dt>
                <dd>{formatMoney(o.refunded_amount, o.currency)}</dd>
              </>
            ) : null}
          </dl>
          {o.paid_at ? <p className="muted">Paid {formatDateTime(o.paid_at)}</p> : null}
          {pending ? <CancelOrder id={o.id} /> : null}
        </aside>
      </div>
    </section>
  );
}

function Tracking({ f }: { f: Fulfillment | null }) {
  if (!f) return null;
  const state: Record<Fulfillment["status"], string> = {
    pending: "Waiting to be packed",
    in_progress: "Being packed",
    shipped: "On its way",
    delivered: "Delivered",
  };
  return (
    <dl className="tracking">
      <dt>Shipment</dt>
      <dd>{state[f.status]}</dd>
      {f.tracking_id ? (
        <>
          <dt>Tracking number</dt>
          <dd>{f.tracking_id}</dd>
        </>
      ) : null}
      {f.eta ? (
        <>
          <dt>Expected</dt>
          <dd>{formatDate(f.eta)}</dd>
        </>
      ) : null}
    </dl>
  );
}

const eventText: Record<string, string> = {
  placed: "Order placed",
  stock_reserved: "Items reserved for you",
  checkout_consumed: "Checkout completed",
  payment_intent_created: "Payment started",
  payment_reminder: "Payment reminder sent",
  payment_failed: "Payment failed",
  pending_payment: "Awaiting payment",
  paid: "Payment received",
  fulfilling: "Preparing your order",
  shipped: "Shipped",
  delivered: "Delivered",
  canceled: "Order canceled",
  expired: "Order expired: it was not paid in time",
  refunded: "Order refunded",
  refund: "Refund issued",
  late_payment: "Payment received after the order had closed; it will be refunded",
  payment_amount_mismatch: "Payment amount did not match; we are looking into it",
  failed: "The order could not be placed",
};

function describe(e: TimelineEntry, currency: string): string {
  const base = eventText[e.type] ?? e.type.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  if (e.type === "refund" && typeof e.detail.amount === "number") return `${base}: ${formatMoney(e.detail.amount, currency)}`;
  return base;
}

export function Timeline({ entries, currency }: { entries: TimelineEntry[]; currency: string }) {
  if (entries.length === 0) return <p className="muted">Nothing yet.</p>;
  const sorted = [...entries].sort((a, b) => a.id - b.id); // newest last
  return (
    <ol className="timeline" aria-label="Order history">
      {sorted.map((e) => (
        <li key={e.id}>
          <span>{describe(e, currency)}</span>
          <time dateTime={e.created_at} className="muted">
            {formatDateTime(e.created_at)}
          </time>
        </li>
      ))}
    </ol>
  );
}

function CancelOrder({ id }: { id: string }) {
  const qc = useQueryClient();
  const cancel = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/orders/{id}/cancel", { params: { path: { id } } })),
    onSuccess: (o) => {
      qc.setQueryData(orderKey(id), o);
      void qc.invalidateQueries({ queryKey: orderKey(id) });
      void qc.invalidateQueries({ queryKey: ordersKey });
    },
  });
  return (
    <div className="order-cancel">
      <button
        type="button"
        className="secondary"
        disabled={cancel.isPending}
        onClick={() => {
          if (window.confirm("Cancel this order? Reserved items will be released.")) cancel.mutate();
        }}
      >
        Cancel order
      </button>
      {cancel.error ? <QueryError error={cancel.error} /> : null}
    </div>
  );
}

function PaymentSection({ order }: { order: Order }) {
  return (
    <section className="payment" aria-labelledby="pay-h">
      <h2 id="pay-h">Payment</h2>
      {order.expires_at ? <p>Pay by {formatDateTime(order.expires_at)}, or the order is canceled and the items released.</p> : null}
      {order.payment.gateway === "test" ? <TestCardPayment order={order} /> : <StripePayment order={order} />}
    </section>
  );
}

const declineText: Record<string, string> = {
  card_declined: "Your card was declined. Try another card.",
  insufficient_funds: "Your card has insufficient funds. Try another card.",
};

function paymentErrorText(e: unknown): string {
  if (e instanceof ProblemError) return declineText[e.code] ?? e.fieldError("card_number") ?? e.message;
  return "Something went wrong. Please try again.";
}

// Confirming: the payment went through; the order turns Paid when the
// gateway's confirmation is processed (pushed live). Until then it is also
// polled for a while, in case the live stream is down.
function Confirming({ orderId }: { orderId: string }) {
  const qc = useQueryClient();
  useEffect(() => {
    let n = 0;
    const t = setInterval(() => {
      if (++n > 20) clearInterval(t);
      void qc.invalidateQueries({ queryKey: orderKey(orderId) });
    }, 3000);
    return () => clearInterval(t);
  }, [orderId, qc]);
  return (
    <p role="status" className="ok">
      Payment received; confirming…
    </p>
  );
}

function TestCardPayment({ order }: { order: Order }) {
  const qc = useQueryClient();
  const intentId = order.payment.intent_id;
  const pay = useMutation({
    mutationFn: async (card: string) => {
      if (!intentId) throw new Error("no payment intent");
      return unwrap(await api.POST("/api/v1/payments/test/confirm", { body: { intent_id: intentId, card_number: card } }));
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: orderKey(order.id) });
    },
  });
  const form = useForm({
    defaultValues: { card: "" },
    onSubmit: ({ value }) => {
      pay.mutate(value.card.replace(/\s+/g, ""));
    },
  });

  if (pay.isSuccess) return <Confirming orderId={order.id} />;
  return (
    <form
      noValidate
      className="pay-form"
      onSubmit={(e) => {
        e.preventDefault();
        e.stopPropagation();
        void form.handleSubmit();
      }}
    >
      {pay.error ? (
        <p role="alert" className="error">
          {paymentErrorText(pay.error)}
        </p>
      ) : null}
      <form.Field
        name="card"
        validators={{
          onSubmit: ({ value }): string | undefined => {
            const d = value.replace(/\s+/g, "");
            if (d === "") return "Enter a card number.";
            if (!/^\d{12,19}$/.test(d)) return "A card number is 12 to 19 digits.";
            return undefined;
          },
        }}
      >
        {(field) => (
          <Field
            label="Card number"
            name="card_number"
            inputMode="numeric"
            autoComplete="cc-number"
            placeholder="4242 4242 4242 4242"
            required
            value={field.state.value}
            onBlur={field.handleBlur}
            onChange={(e) => field.handleChange(e.target.value)}
            error={field.state.meta.errors.find((m): m is string => typeof m === "string" && m !== "")}
          />
        )}
      </form.Field>
      <p className="muted pay-hint">
        Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined; 4000 0000 0000 9995 has insufficient funds.
      </p>
      <button type="submit" disabled={pay.isPending || !intentId}>
        Pay
      </button>
    </form>
  );
}

// Stripe.js, loaded from Stripe (no npm package): only what this page uses.
interface StripeError {
  message?: string;
  code?: string;
  type?: string;
}
interface StripeElement {
  mount(el: HTMLElement): void;
  destroy(): void;
}
interface StripeElements {
  create(type: "payment"): StripeElement;
}
interface StripeJs {
  elements(opts: { clientSecret: string }): StripeElements;
  confirmPayment(opts: {
    elements: StripeElements;
    redirect: "if_required";
    confirmParams?: { return_url?: string };
  }): Promise<{ error?: StripeError; paymentIntent?: { id: string; status: string } }>;
}
type StripeFactory = (publishableKey: string) => StripeJs;

declare global {
  interface Window {
    Stripe?: StripeFactory;
  }
}

const STRIPE_JS = "https://js.stripe.com/v3/";
let stripeLoading: Promise<StripeFactory> | null = null;

function loadStripe(): Promise<StripeFactory> {
  if (window.Stripe) return Promise.resolve(window.Stripe);
  stripeLoading ??= new Promise<StripeFactory>((resolve, reject) => {
    const s = document.createElement("script");
    s.src = STRIPE_JS;
    s.async = true;
    s.addEventListener("load", () => (window.Stripe ? resolve(window.Stripe) : reject(new Error("Stripe.js did not load"))));
    s.addEventListener("error", () => {
      stripeLoading = null;
      s.remove();
      reject(new Error("Stripe.js did not load"));
    });
    document.head.appendChild(s);
  });
  return stripeLoading;
}

function stripeKey(): string | null {
  const k = document.querySelector<HTMLMetaElement>('meta[name="stripe-publishable-key"]')?.content.trim();
  return k ? k : null;
}

function StripePayment({ order }: { order: Order }) {
  const pk = stripeKey();
  const secret = order.payment.client_secret;
  if (!pk) {
    return (
      <p role="alert" className="error">
        Card payments are not configured for this shop.
      </p>
    );
  }
  if (!secret) {
    return (
      <p role="alert" className="error">
        This order cannot be paid online. Please contact support.
      </p>
    );
  }
  return <StripeForm orderId={order.id} pk={pk} clientSecret={secret} />;
}

function StripeForm({ orderId, pk, clientSecret }: { orderId: string; pk: string; clientSecret: string }) {
  const qc = useQueryClient();
  const mountRef = useRef<HTMLDivElement>(null);
  const [ready, setReady] = useState<{ stripe: StripeJs; elements: StripeElements } | null>(null);
  const [loadError, setLoadError] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  useEffect(() => {
    let cancelled = false;
    let el: StripeElement | null = null;
    loadStripe().then(
      (Stripe) => {
        if (cancelled || !mountRef.current) return;
        const stripe = Stripe(pk);
        const elements = stripe.elements({ clientSecret });
        el = elements.create("payment");
        el.mount(mountRef.current);
        setReady({ stripe, elements });
      },
      () => {
        if (!cancelled) setLoadError(true);
      },
    );
    return () => {
      cancelled = true;
      el?.destroy();
    };
  }, [pk, clientSecret]);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!ready || busy) return;
    setBusy(true);
    setError(null);
    try {
      const r = await ready.stripe.confirmPayment({ elements: ready.elements, redirect: "if_required", confirmParams: { return_url: window.location.href } });
      if (r.error) {
        setError(r.error.code && declineText[r.error.code] ? declineText[r.error.code]! : (r.error.message ?? "Your payment was not completed."));
      } else {
        setDone(true);
        void qc.invalidateQueries({ queryKey: orderKey(orderId) });
      }
    } catch {
      setError("Something went wrong. Please try again.");
    } finally {
      setBusy(false);
    }
  }

  if (done) return <Confirming orderId={orderId} />;
  return (
    <form noValidate className="pay-form" onSubmit={(e) => void onSubmit(e)}>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {loadError ? (
        <p role="alert" className="error">
          The card form could not be loaded. Check your connection and reload the page.
        </p>
      ) : null}
      <div ref={mountRef} className="stripe-element" />
      {!ready && !loadError ? <p className="muted">Loading the card form…</p> : null}
      <button type="submit" disabled={!ready || busy}>
        Pay
      </button>
    </form>
  );
}
