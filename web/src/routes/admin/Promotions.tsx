import { useId, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm, useStore } from "@tanstack/react-form";
import { api } from "../../api/client";
import { ProblemError, unwrap } from "../../api/problem";
import type { components, operations } from "../../api/schema";
import { currencyExponent, formatMoney, toMajor, toMinor } from "../../money";
import { FormAlert } from "../Auth";
import { Field } from "../Field";
import { all, required, bindField, shownError } from "../form";
import { QueryError } from "../QueryError";
import "./admin.css";

type Promotion = components["schemas"]["cart.PromotionRow"];
type PromotionBody = operations["postAdminPromotions"]["requestBody"]["content"]["application/json"];
type Kind = Promotion["kind"];

const promotionsKey = ["admin", "promotions"] as const;

// ---------------------------------------------------------------------------
// Display.

function discount(p: Promotion): string {
  return p.kind === "percent" ? `${p.value}%` : formatMoney(p.value, p.currency ?? "USD");
}

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

function windowText(p: Promotion): string {
  if (!p.starts_at && !p.ends_at) return "Always";
  if (p.starts_at && p.ends_at) return `${when(p.starts_at)} – ${when(p.ends_at)}`;
  return p.starts_at ? `From ${when(p.starts_at)}` : `Until ${when(p.ends_at!)}`;
}

// minimumText: a percent promotion has no currency of its own; its
// minimum is in the cart's currency, shown with two decimals.
function minimumText(p: Promotion): string {
  if (p.min_subtotal === 0) return "—";
  return p.currency ? formatMoney(p.min_subtotal, p.currency) : toMajor(p.min_subtotal, "USD");
}

// ---------------------------------------------------------------------------
// The create form's values, checks (cart/app/promotions.go) and body.

interface Values {
  code: string;
  kind: Kind;
  value: string;
  currency: string;
  minSubtotal: string;
  maxUses: string;
  startsAt: string;
  endsAt: string;
  oncePerCustomer: boolean;
  active: boolean;
}

const emptyValues: Values = {
  code: "",
  kind: "percent",
  value: "",
  currency: "",
  minSubtotal: "",
  maxUses: "",
  startsAt: "",
  endsAt: "",
  oncePerCustomer: true,
  active: true,
};

type Check = (v: string) => string | undefined;

const codeFormat: Check = (v) => {
  const s = v.trim();
  if (s === "") return undefined;
  if (s.length < 3 || s.length > 64) return "Use 3 to 64 characters.";
  return /^[A-Za-z0-9_-]+$/.test(s) ? undefined : "Use only letters, digits, '-' and '_'.";
};
const codeCheck = all(required("Code"), codeFormat);

// The amount's currency: the promotion's, or two decimals when it has none.
const amountCurrency = (currency: string) => (/^[A-Za-z]{3}$/.test(currency.trim()) ? currency.trim().toUpperCase() : "USD");

export function valueCheck(v: string, kind: Kind, currency: string): string | undefined {
  const s = v.trim();
  if (s === "") return "Value is required.";
  if (kind === "percent") {
    if (!/^\d+$/.test(s)) return "Enter a whole percentage from 1 to 100.";
    const n = Number(s);
    return n < 1 || n > 100 ? "Enter a whole percentage from 1 to 100." : undefined;
  }
  const minor = toMinor(s, amountCurrency(currency));
  if (minor === null) return `Enter an amount like ${toMajor(1000, amountCurrency(currency))}.`;
  return minor <= 0 ? "The discount must be more than 0." : undefined;
}

// currencyCheck: required for a fixed discount (its amount is money).
export function currencyCheck(v: string, kind: Kind): string | undefined {
  const s = v.trim();
  if (s === "") return kind === "fixed" ? "Currency is required for a fixed discount." : undefined;
  return /^[A-Za-z]{3}$/.test(s) ? undefined : "Use a three-letter ISO 4217 code such as USD.";
}

const minSubtotalCheck = (v: string, currency: string): string | undefined =>
  v.trim() === "" || toMinor(v, amountCurrency(currency)) !== null ? undefined : `Enter an amount like ${toMajor(5000, amountCurrency(currency))}, or leave it empty.`;

const maxUsesCheck: Check = (v) => {
  const s = v.trim();
  if (s === "") return undefined;
  return /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 1_000_000_000 ? undefined : "Enter a whole number of at least 1, or leave it empty for no limit.";
};

const dateCheck: Check = (v) => (v === "" || !Number.isNaN(new Date(v).getTime()) ? undefined : "Enter a date and time.");

const endsCheck = (ends: string, starts: string): string | undefined => {
  const own = dateCheck(ends);
  if (own) return own;
  if (ends === "" || starts === "") return undefined;
  return new Date(ends).getTime() > new Date(starts).getTime() ? undefined : "Ends must be after Starts.";
};

// datetime-local values are local times without a zone: sent as instants.
const instant = (v: string) => (v === "" ? null : new Date(v).toISOString());

function toBody(v: Values): PromotionBody {
  const currency = v.currency.trim().toUpperCase();
  const cur = amountCurrency(currency);
  const value = v.kind === "percent" ? Number(v.value.trim()) : (toMinor(v.value, cur) ?? 0);
  return {
    code: v.code.trim().toUpperCase(),
    kind: v.kind,
    value,
    ...(currency ? { currency } : {}),
    min_subtotal: v.minSubtotal.trim() === "" ? 0 : (toMinor(v.minSubtotal, cur) ?? 0),
    max_uses: v.maxUses.trim() === "" ? null : Number(v.maxUses.trim()),
    starts_at: instant(v.startsAt),
    ends_at: instant(v.endsAt),
    once_per_customer: v.oncePerCustomer,
    active: v.active,
  };
}

// ---------------------------------------------------------------------------

function Checkbox({ label, checked, onChange }: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <div className="field check">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

function NewPromotion({ onDone }: { onDone: (p: Promotion) => void }) {
  const qc = useQueryClient();
  const kindId = useId();
  const create = useMutation({
    mutationFn: async (body: PromotionBody) => unwrap(await api.POST("/api/v1/admin/promotions", { body })),
    onSuccess: async (p) => {
      await qc.invalidateQueries({ queryKey: promotionsKey });
      onDone(p);
    },
  });
  const form = useForm({
    defaultValues: emptyValues,
    // Every field's check runs on each submit, even when one already failed.
    canSubmitWhenInvalid: true,
    onSubmit: async ({ value }) => {
      await create.mutateAsync(toBody(value)).catch(() => undefined);
    },
  });
  const submitted = useStore(form.store, (s) => s.submissionAttempts > 0);
  const kind = useStore(form.store, (s) => s.values.kind);
  const currency = useStore(form.store, (s) => s.values.currency);
  const err = create.error;
  const codeErr = err instanceof ProblemError && err.code === "promo_code_taken" ? err.message : undefined;

  return (
    <form
      className="admin-form admin-panel"
      noValidate
      aria-label="New promotion"
      onSubmit={(e) => {
        e.preventDefault();
        void form.handleSubmit();
      }}
    >
      <h2>New promotion</h2>
      <FormAlert error={codeErr ? null : err} fields={["code", "kind", "value", "currency", "min_subtotal", "max_uses", "starts_at", "ends_at", "once_per_customer", "active"]} />
      <div className="admin-form-grid">
        <form.Field name="code" validators={{ onBlur: codeCheck, onSubmit: codeCheck }}>
          {(f) => (
            <Field
              label="Code"
              required
              autoComplete="off"
              value={f.state.value}
              onBlur={f.handleBlur}
              onChange={(e) => f.handleChange(e.target.value.toUpperCase())}
              error={shownError(f.state.meta, submitted, err, "code") ?? codeErr}
            />
          )}
        </form.Field>
        <form.Field name="kind">
          {(f) => (
            <div className="field">
              <label htmlFor={kindId}>Kind</label>
              <select id={kindId} value={f.state.value} onChange={(e) => f.handleChange(e.target.value as Kind)}>
                <option value="percent">Percent off</option>
                <option value="fixed">Fixed amount off</option>
              </select>
            </div>
          )}
        </form.Field>
        <form.Field
          name="value"
          validators={{
            onBlur: ({ value, fieldApi }) => valueCheck(value, fieldApi.form.getFieldValue("kind"), fieldApi.form.getFieldValue("currency")),
            onSubmit: ({ value, fieldApi }) => valueCheck(value, fieldApi.form.getFieldValue("kind"), fieldApi.form.getFieldValue("currency")),
          }}
        >
          {(f) => (
            <Field
              label="Value"
              required
              placeholder={kind === "percent" ? "percent off, 1 to 100" : `amount off${currency.trim() ? ` in ${currency.trim()}` : ""}, e.g. 5.00`}
              inputMode={kind === "percent" ? "numeric" : "decimal"}
              {...bindField(f, submitted, err, "value")}
            />
          )}
        </form.Field>
        <form.Field
          name="currency"
          validators={{
            onBlur: ({ value, fieldApi }) => currencyCheck(value, fieldApi.form.getFieldValue("kind")),
            onSubmit: ({ value, fieldApi }) => currencyCheck(value, fieldApi.form.getFieldValue("kind")),
          }}
        >
          {(f) => (
            <Field
              label="Currency"
              required={kind === "fixed"}
              maxLength={3}
              placeholder={kind === "fixed" ? "USD" : "optional"}
              autoComplete="off"
              value={f.state.value}
              onBlur={f.handleBlur}
              onChange={(e) => f.handleChange(e.target.value.toUpperCase())}
              error={shownError(f.state.meta, submitted, err, "currency")}
            />
          )}
        </form.Field>
        <form.Field
          name="minSubtotal"
          validators={{
            onBlur: ({ value, fieldApi }) => minSubtotalCheck(value, fieldApi.form.getFieldValue("currency")),
            onSubmit: ({ value, fieldApi }) => minSubtotalCheck(value, fieldApi.form.getFieldValue("currency")),
          }}
        >
          {(f) => (
            <Field
              label="Minimum subtotal"
              inputMode="decimal"
              placeholder={`optional, in ${amountCurrency(currency)}${currencyExponent(amountCurrency(currency)) === 2 ? " (e.g. 50.00)" : ""}`}
              {...bindField(f, submitted, err, "min_subtotal")}
            />
          )}
        </form.Field>
        <form.Field name="maxUses" validators={{ onBlur: ({ value }) => maxUsesCheck(value), onSubmit: ({ value }) => maxUsesCheck(value) }}>
          {(f) => (
            <Field
              label="Max uses"
              inputMode="numeric"
              placeholder="no limit"
              {...bindField(f, submitted, err, "max_uses")}
            />
          )}
        </form.Field>
        <form.Field name="startsAt" validators={{ onBlur: ({ value }) => dateCheck(value), onSubmit: ({ value }) => dateCheck(value) }}>
          {(f) => (
            <Field
              label="Starts"
              type="datetime-local"
              {...bindField(f, submitted, err, "starts_at")}
            />
          )}
        </form.Field>
        <form.Field
          name="endsAt"
          validators={{
            onBlur: ({ value, fieldApi }) => endsCheck(value, fieldApi.form.getFieldValue("startsAt")),
            onSubmit: ({ value, fieldApi }) => endsCheck(value, fieldApi.form.getFieldValue("startsAt")),
          }}
        >
          {(f) => (
            <Field
              label="Ends"
              type="datetime-local"
              {...bindField(f, submitted, err, "ends_at")}
            />
          )}
        </form.Field>
        <form.Field name="oncePerCustomer">
          {(f) => <Checkbox label="Once per customer" checked={f.state.value} onChange={(v) => f.handleChange(v)} />}
        </form.Field>
        <form.Field name="active">
          {(f) => <Checkbox label="Active" checked={f.state.value} onChange={(v) => f.handleChange(v)} />}
        </form.Field>
      </div>
      <div className="admin-actions">
        <form.Subscribe selector={(s) => s.isSubmitting}>
          {(busy) => (
            <button type="submit" disabled={busy}>
              Create promotion
            </button>
          )}
        </form.Subscribe>
      </div>
    </form>
  );
}

// PromotionsAdmin lists the promo codes with their use so far, creates
// new ones and switches them on and off.
export function PromotionsAdmin() {
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useQuery({
    queryKey: promotionsKey,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/admin/promotions", { signal })),
    staleTime: 0,
  });
  const toggle = useMutation({
    mutationFn: async ({ id, active }: { id: string; active: boolean }) =>
      unwrap(await api.PATCH("/api/v1/admin/promotions/{id}", { params: { path: { id } }, body: { active } })),
    onSuccess: (p) => {
      qc.setQueryData(promotionsKey, (old: typeof list.data) => (old ? { ...old, items: old.items.map((x) => (x.id === p.id ? p : x)) } : old));
      setNotice(`${p.code} is now ${p.active ? "active" : "inactive"}.`);
    },
  });

  return (
    <section className="admin-page">
      <div className="admin-head">
        <h1>Promotions</h1>
        <button
          type="button"
          aria-expanded={creating}
          onClick={() => {
            setCreating(!creating);
            setNotice(null);
          }}
        >
          New promotion
        </button>
      </div>
      {creating ? (
        <NewPromotion
          onDone={(p) => {
            setCreating(false);
            setNotice(`Created ${p.code}.`);
          }}
        />
      ) : null}
      {notice ? (
        <p role="status" className="admin-note">
          {notice}
        </p>
      ) : null}
      {toggle.error ? <QueryError error={toggle.error} /> : null}
      {list.error ? <QueryError error={list.error} /> : null}
      {list.isPending ? <p role="status">Loading…</p> : null}
      {list.isSuccess ? (
        <div className="admin-table-wrap">
          <table className="admin-table">
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Kind</th>
                <th scope="col" className="num">
                  Value
                </th>
                <th scope="col" className="num">
                  Min. subtotal
                </th>
                <th scope="col">Active</th>
                <th scope="col" className="num">
                  Uses
                </th>
                <th scope="col">Window</th>
                <th scope="col">Once per customer</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((p) => (
                <tr key={p.id} className={p.active ? undefined : "inactive"}>
                  <th scope="row">{p.code}</th>
                  <td>{p.kind === "percent" ? "Percent" : "Fixed"}</td>
                  <td className="num">{discount(p)}</td>
                  <td className="num">{minimumText(p)}</td>
                  <td>
                    <span className={p.active ? "badge ok" : "badge off"}>{p.active ? "Active" : "Inactive"}</span>
                  </td>
                  <td className="num">
                    {p.uses} / {p.max_uses ?? "∞"}
                  </td>
                  <td>{windowText(p)}</td>
                  <td>{p.once_per_customer ? "Yes" : "No"}</td>
                  <td>
                    <button
                      type="button"
                      aria-label={`${p.active ? "Deactivate" : "Activate"} ${p.code}`}
                      onClick={() => toggle.mutate({ id: p.id, active: !p.active })}
                      disabled={toggle.isPending}
                    >
                      {p.active ? "Deactivate" : "Activate"}
                    </button>
                  </td>
                </tr>
              ))}
              {list.data.items.length === 0 ? (
                <tr>
                  <td colSpan={9} className="muted">
                    No promotions yet.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
