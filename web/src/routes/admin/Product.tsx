import { useId, useState, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";
import { Link, useNavigate } from "@tanstack/react-router";
import { queryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm, useStore } from "@tanstack/react-form";
import { api } from "../../api/client";
import { ProblemError, unwrap } from "../../api/problem";
import type { operations } from "../../api/schema";
import { formatMoney, toMajor, toMinor } from "../../money";
import { adminProductRoute } from "../../router";
import { FormAlert } from "../Auth";
import { Field } from "../Field";
import { all, maxLen, required, bindField, shownError } from "../form";
import { QueryError } from "../QueryError";
import type { Product } from "../queries";
import "./admin.css";

type ProductBody = operations["putAdminProductsId"]["requestBody"]["content"]["application/json"];
type ProductStatus = Product["status"];

// ---------------------------------------------------------------------------
// Labelled controls beside ../Field's input (same error wiring).

export function TextAreaField({ label, error, hint, ...rest }: { label: string; error?: string | undefined; hint?: ReactNode } & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const describedBy = [hint ? hintId : "", error ? errId : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <span id={hintId} className="admin-note">
          {hint}
        </span>
      ) : null}
      <textarea id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...rest} />
      {error ? (
        <p id={errId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function SelectField({ label, error, children, ...rest }: { label: string; error?: string | undefined; children: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  const errId = `${id}-err`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-invalid={error ? true : undefined} aria-describedby={error ? errId : undefined} {...rest}>
        {children}
      </select>
      {error ? (
        <p id={errId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

// ---------------------------------------------------------------------------
// Values, checks (the server's rules, catalog/domain) and the request body.

interface Values {
  sku: string;
  name: string;
  description: string;
  category: string;
  brand: string;
  price: string;
  currency: string;
  weight: string;
  images: string;
  status: ProductStatus;
  initialStock: string;
}

const emptyValues: Values = {
  sku: "",
  name: "",
  description: "",
  category: "",
  brand: "",
  price: "",
  currency: "USD",
  weight: "0",
  images: "",
  status: "active",
  initialStock: "0",
};

function toValues(p: Product): Values {
  return {
    sku: p.sku,
    name: p.name,
    description: p.description,
    category: p.category,
    brand: p.brand,
    price: toMajor(p.price, p.currency),
    currency: p.currency,
    weight: String(p.weight_grams),
    images: p.images.join("\n"),
    status: p.status,
    initialStock: "0",
  };
}

type Check = (v: string) => string | undefined;

const skuFormat: Check = (v) =>
  v.trim() !== "" && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v.trim()) ? "Use 1 to 64 letters, digits, '.', '_' or '-' (starting with a letter or digit)." : undefined;

const currencyFormat: Check = (v) => (v.trim() !== "" && !/^[A-Za-z]{3}$/.test(v.trim()) ? "Use a three-letter ISO 4217 code such as USD." : undefined);

const wholeNumber =
  (what: string, min: number, max: number): Check =>
  (v) => {
    const s = v.trim();
    if (s === "") return undefined;
    if (!/^[+-]?\d+$/.test(s)) return `${what} must be a whole number.`;
    const n = Number(s);
    return n < min || n > max ? `${what} must be between ${min} and ${max}.` : undefined;
  };

// validCurrency is a currency code Intl can format with (else money.ts
// cannot tell its number of decimals).
function validCurrency(c: string): string | null {
  const s = c.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(s)) return null;
  try {
    formatMoney(0, s);
    return s;
  } catch {
    return null;
  }
}

export function priceCheck(v: string, currency: string, what = "Price"): string | undefined {
  if (v.trim() === "") return `${what} is required.`;
  const cur = validCurrency(currency) ?? "USD";
  if (toMinor(v, cur) === null) {
    const example = toMajor(1999, cur);
    return `Enter ${what.toLowerCase()} in ${cur} like ${example} (no more decimals than the currency has).`;
  }
  return undefined;
}

function imageLines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

// imagesCheck: one http(s) URL a line, at most 20 (catalog/domain).
export const imagesCheck: Check = (text) => {
  const lines = imageLines(text);
  if (lines.length > 20) return "Use at most 20 image URLs.";
  for (const [i, l] of lines.entries()) {
    let ok = false;
    try {
      const u = new URL(l);
      ok = (u.protocol === "http:" || u.protocol === "https:") && u.host !== "" && l.length <= 2048;
    } catch {
      ok = false;
    }
    if (!ok) return `Line ${i + 1} is not an http(s) URL.`;
  }
  return undefined;
};

const checks = {
  sku: all(required("SKU"), skuFormat),
  name: all(required("Name"), maxLen(200)),
  description: all(maxLen(10000)),
  category: all(required("Category"), maxLen(100)),
  brand: all(maxLen(100)),
  currency: all(required("Currency"), currencyFormat),
  weight: all(wholeNumber("Weight", 0, 1_000_000)),
  images: all(imagesCheck),
  initialStock: all(wholeNumber("Initial stock", 0, 1_000_000_000)),
};

function toBody(v: Values, attributes: Product["attributes"]): ProductBody {
  const currency = v.currency.trim().toUpperCase();
  return {
    sku: v.sku.trim(),
    name: v.name.trim(),
    description: v.description,
    category: v.category.trim(),
    brand: v.brand.trim(),
    price: toMinor(v.price, currency),
    currency,
    weight_grams: v.weight.trim() === "" ? 0 : Number(v.weight.trim()),
    images: imageLines(v.images),
    status: v.status,
    attributes,
  };
}

// ---------------------------------------------------------------------------
// The conflict panel: what the admin sent against the product as it is now.

interface Diff {
  field: string;
  yours: string;
  current: string;
}

// The fields of the form, as the API names them.
const editable = ["sku", "name", "description", "category", "brand", "price", "currency", "weight_grams", "images", "status"] as const;
type Editable = (typeof editable)[number];

// bodyOf is a product as the body that would save it unchanged.
function bodyOf(p: Product): Pick<ProductBody, Editable> {
  return {
    sku: p.sku,
    name: p.name,
    description: p.description,
    category: p.category,
    brand: p.brand,
    price: p.price,
    currency: p.currency,
    weight_grams: p.weight_grams,
    images: p.images,
    status: p.status,
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? "") === JSON.stringify(b ?? "");

// changedByMe lists the fields the admin edited since loading base.
export function changedByMe(mine: ProductBody, base: Product): Editable[] {
  const b = bodyOf(base);
  return editable.filter((k) => !same(k === "category" ? mine.category.toLowerCase() : mine[k], b[k]));
}

// merged is the current product with only the admin's own edits applied
// on top: reapplying never reverts what the other admin changed in
// fields this admin did not touch.
export function merged(mine: ProductBody, base: Product, cur: Product): ProductBody {
  const out: ProductBody = { ...bodyOf(cur), attributes: cur.attributes };
  for (const k of changedByMe(mine, base)) (out as Record<string, unknown>)[k] = mine[k];
  return out;
}

export function differences(mine: ProductBody, cur: Product): Diff[] {
  const price = (minor: number | null, c: string) => (minor === null ? "" : formatMoney(minor, validCurrency(c) ?? "USD"));
  // Compared the way the server stores them (categories lower case,
  // currencies upper case, names trimmed), so only real differences show.
  const rows: [string, string, string][] = [
    ["SKU", mine.sku, cur.sku],
    ["Name", mine.name, cur.name],
    ["Description", mine.description ?? "", cur.description],
    ["Category", mine.category.toLowerCase(), cur.category],
    ["Brand", mine.brand ?? "", cur.brand],
    ["Price", price(mine.price, mine.currency), price(cur.price, cur.currency)],
    ["Currency", mine.currency, cur.currency],
    ["Weight (g)", String(mine.weight_grams ?? 0), String(cur.weight_grams)],
    ["Image URLs", (mine.images ?? []).join("\n"), cur.images.join("\n")],
    ["Status", mine.status ?? "active", cur.status],
  ];
  return rows.filter(([, a, b]) => a !== b).map(([field, yours, current]) => ({ field, yours, current }));
}

function ConflictPanel({ mine, base, current, busy, onReapply, onDiscard }: { mine: ProductBody; base: Product; current: Product; busy: boolean; onReapply: () => void; onDiscard: () => void }) {
  // Yours = your edits on top of the current product: a field you did
  // not touch shows the other admin's value on both sides and is left out.
  const diffs = differences(merged(mine, base, current), current);
  const mineChanged = new Set(diffs.map((d) => d.field));
  const theirs = differences(bodyOf(base) as ProductBody, current).filter((d) => !mineChanged.has(d.field));
  return (
    <div role="alert" className="admin-panel admin-conflict" aria-labelledby="conflict-title">
      <h2 id="conflict-title">Someone else changed this product</h2>
      <p>
        Your changes were not saved: the product is now at version {current.version}. Below are the fields you changed that now differ; reapplying
        saves only those on top of the current version (the other changes stay), discarding loads the current product.
      </p>
      {diffs.length === 0 ? (
        <p>Your values match the current product in every field on this page.</p>
      ) : (
        <div className="admin-table-wrap">
          <table className="admin-table">
            <caption>Fields that differ</caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Yours</th>
                <th scope="col">Current</th>
              </tr>
            </thead>
            <tbody>
              {diffs.map((d) => (
                <tr key={d.field}>
                  <th scope="row">{d.field}</th>
                  <td>{d.yours === "" ? <span className="muted">(empty)</span> : d.yours}</td>
                  <td>{d.current === "" ? <span className="muted">(empty)</span> : d.current}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {theirs.length > 0 ? (
        <p>
          Also changed by someone else, and kept when you reapply: {theirs.map((d) => `${d.field} (now ${d.current === "" ? "empty" : d.current})`).join(", ")}.
        </p>
      ) : null}
      <div className="admin-actions">
        <button type="button" onClick={onReapply} disabled={busy}>
          Reapply my changes
        </button>
        <button type="button" onClick={onDiscard} disabled={busy}>
          Discard my changes
        </button>
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Queries.

const productKey = (id: string) => ["admin", "product", id] as const;
const ledgerKey = (id: string) => ["admin", "product", id, "ledger"] as const;

async function fetchProduct(id: string, signal?: AbortSignal): Promise<Product> {
  // no-cache: the product endpoint answers with an ETag; the admin must see
  // the stored version, never a cached copy.
  return unwrap(await api.GET("/api/v1/products/{id}", { params: { path: { id } }, signal, cache: "no-cache" }));
}

const adminProductQuery = (id: string) =>
  queryOptions({
    queryKey: productKey(id),
    queryFn: ({ signal }) => fetchProduct(id, signal),
    staleTime: 0,
  });

// ---------------------------------------------------------------------------
// The page.

export function ProductAdmin() {
  const { id } = adminProductRoute.useParams();
  if (id === "new") return <ProductEditor key="new" product={null} />;
  return <ExistingProduct key={id} id={id} />;
}

function ExistingProduct({ id }: { id: string }) {
  const q = useQuery(adminProductQuery(id));
  if (q.error) {
    return (
      <section className="admin-page">
        <p>
          <Link to="/admin/products">← Products</Link>
        </p>
        <QueryError error={q.error} />
      </section>
    );
  }
  if (q.isPending) return <p role="status">Loading…</p>;
  return (
    <>
      <ProductEditor product={q.data} />
      <StockPanel product={q.data} />
    </>
  );
}

type SaveResult = { kind: "saved"; product: Product } | { kind: "conflict"; mine: ProductBody; base: Product; current: Product };

function ProductEditor({ product }: { product: Product | null }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  // base is the product the form was loaded from: its version goes with a
  // save; it changes only on a save, a discard or an archive.
  const [base, setBase] = useState<Product | null>(product);
  const [conflict, setConflict] = useState<{ mine: ProductBody; base: Product; current: Product } | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [defaults, setDefaults] = useState<Values>(() => (product ? toValues(product) : emptyValues));
  // load puts a product into the form. The defaults move with it: useForm
  // re-applies changed defaultValues to an untouched form on render.
  const load = (p: Product) => {
    const v = toValues(p);
    setDefaults(v);
    form.reset(v);
  };

  const remember = (p: Product) => {
    qc.setQueryData(productKey(p.id), p);
    void qc.invalidateQueries({ queryKey: ["admin", "products"] });
    void qc.invalidateQueries({ queryKey: ["product", p.id] });
  };

  const save = useMutation({
    mutationFn: async ({ body, version }: { body: ProductBody; version: number }): Promise<SaveResult> => {
      if (!base) throw new Error("no product");
      try {
        const p = unwrap(await api.PUT("/api/v1/admin/products/{id}", { params: { path: { id: base.id } }, body: { ...body, version } }));
        return { kind: "saved", product: p };
      } catch (e) {
        if (!(e instanceof ProblemError && e.code === "version_conflict")) throw e;
        // Someone saved first: nothing was written. Show what changed;
        // resubmitting is the admin's call.
        return { kind: "conflict", mine: body, base, current: await fetchProduct(base.id) };
      }
    },
    onSuccess: (r) => {
      if (r.kind === "conflict") {
        setConflict({ mine: r.mine, base: r.base, current: r.current });
        qc.setQueryData(productKey(r.current.id), r.current);
        return;
      }
      setConflict(null);
      setBase(r.product);
      load(r.product);
      remember(r.product);
      setSaved(`Saved (version ${r.product.version}).`);
    },
  });

  const create = useMutation({
    mutationFn: async (body: ProductBody) => unwrap(await api.POST("/api/v1/admin/products", { body })),
    onSuccess: (p) => {
      remember(p);
      void navigate({ to: "/admin/products/$id", params: { id: p.id }, replace: true });
    },
  });

  const archive = useMutation({
    mutationFn: async (id: string) => {
      unwrap(await api.DELETE("/api/v1/admin/products/{id}", { params: { path: { id } } }));
      return fetchProduct(id);
    },
    onSuccess: (p) => {
      setConflict(null);
      save.reset();
      setBase(p);
      load(p);
      remember(p);
      setSaved("Archived.");
    },
  });

  const form = useForm({
    defaultValues: defaults,
    // Every field's check runs on each Save, even when one already failed.
    canSubmitWhenInvalid: true,
    onSubmit: async ({ value }) => {
      setSaved(null);
      if (!base) {
        await create.mutateAsync({ ...toBody(value, {}), initial_stock: Number(value.initialStock.trim() || "0") }).catch(() => undefined);
        return;
      }
      await save.mutateAsync({ body: toBody(value, base.attributes), version: base.version }).catch(() => undefined);
    },
  });

  const submitted = useStore(form.store, (s) => s.submissionAttempts > 0);
  const err: unknown = base ? save.error : create.error;
  const title = useStore(form.store, (s) => s.values.name);

  // Server errors that belong to no single input of the form (or a
  // conflict other than the version one) go to the alert on top.
  const serverField = (name: string): string | undefined => {
    if (!(err instanceof ProblemError)) return undefined;
    if (name === "sku" && err.code === "sku_taken") return err.message;
    if (name === "images") {
      const m = err.errors.filter((e) => e.field === "images" || e.field.startsWith("images["));
      return m.length > 0 ? m.map((e) => (e.field.startsWith("images[") ? `Line ${Number(e.field.slice(7, -1)) + 1}: ${e.message}` : e.message)).join(" ") : undefined;
    }
    return err.fieldError(name);
  };
  const show = (meta: { errors: unknown[]; isTouched: boolean }, name: string) => shownError(meta, submitted, null, name) ?? serverField(name);
  const formFields = ["sku", "name", "description", "category", "brand", "price", "currency", "weight_grams", "status", "initial_stock", "images", ...Array.from({ length: 20 }, (_, i) => `images[${i}]`)];
  const alertError = err instanceof ProblemError && err.code === "sku_taken" ? null : err;

  const onArchive = () => {
    if (!base) return;
    if (!window.confirm(`Archive “${base.name}”? Shoppers will no longer see it${form.state.isDirty ? "; your unsaved changes are discarded" : ""}.`)) return;
    archive.mutate(base.id);
  };

  return (
    <section className="admin-page">
      <p>
        <Link to="/admin/products">← Products</Link>
      </p>
      <div className="admin-head">
        <h1>{base ? title || base.name : "New product"}</h1>
        {base ? <span className={base.status === "active" ? "badge ok" : "badge off"}>{base.status === "active" ? "Active" : "Archived"}</span> : null}
      </div>
      {base ? (
        <p className="admin-note">
          Version {base.version} · updated {new Date(base.updated_at).toLocaleString()}
        </p>
      ) : null}

      {conflict ? (
        <ConflictPanel
          mine={conflict.mine}
          base={conflict.base}
          current={conflict.current}
          busy={save.isPending}
          onReapply={() => {
            // The merged body is saved against the current version, which
            // becomes the new base.
            setBase(conflict.current);
            save.mutate({ body: merged(conflict.mine, conflict.base, conflict.current), version: conflict.current.version });
          }}
          onDiscard={() => {
            setConflict(null);
            save.reset();
            setBase(conflict.current);
            load(conflict.current);
            setSaved("Loaded the current product.");
          }}
        />
      ) : null}

      <form
        className="admin-form"
        noValidate
        aria-label={base ? "Edit product" : "New product"}
        onSubmit={(e) => {
          e.preventDefault();
          void form.handleSubmit();
        }}
      >
        <FormAlert error={alertError} fields={formFields} />
        {archive.error ? <QueryError error={archive.error} /> : null}
        {saved ? (
          <p role="status" className="admin-note">
            {saved}
          </p>
        ) : null}
        <div className="admin-form-grid">
          <form.Field name="sku" validators={{ onBlur: checks.sku, onSubmit: checks.sku }}>
            {(f) => (
              <Field
                label="SKU"
                required
                autoComplete="off"
                value={f.state.value}
                onBlur={f.handleBlur}
                onChange={(e) => f.handleChange(e.target.value)}
                error={show(f.state.meta, "sku")}
              />
            )}
          </form.Field>
          <form.Field name="name" validators={{ onBlur: checks.name, onSubmit: checks.name }}>
            {(f) => (
              <Field
                label="Name"
                required
                autoComplete="off"
                value={f.state.value}
                onBlur={f.handleBlur}
                onChange={(e) => f.handleChange(e.target.value)}
                error={show(f.state.meta, "name")}
              />
            )}
          </form.Field>
          <div className="wide">
            <form.Field name="description" validators={{ onBlur: checks.description, onSubmit: checks.description }}>
              {(f) => (
                <TextAreaField
                  label="Description"
                  rows={5}
                  value={f.state.value}
                  onBlur={f.handleBlur}
                  onChange={(e) => f.handleChange(e.target.value)}
                  error={show(f.state.meta, "description")}
                />
              )}
            </form.Field>
          </div>
          <form.Field name="category" validators={{ onBlur: checks.category, onSubmit: checks.category }}>
            {(f) => (
              <Field
                label="Category"
                required
                autoComplete="off"
                value={f.state.value}
                onBlur={f.handleBlur}
                onChange={(e) => f.handleChange(e.target.value)}
                error={show(f.state.meta, "category")}
              />
            )}
          </form.Field>
          <form.Field name="brand" validators={{ onBlur: checks.brand, onSubmit: checks.brand }}>
            {(f) => (
              <Field
                label="Brand"
                autoComplete="off"
                value={f.state.value}
                onBlur={f.handleBlur}
                onChange={(e) => f.handleChange(e.target.value)}
                error={show(f.state.meta, "brand")}
              />
            )}
          </form.Field>
          <form.Field
            name="price"
            validators={{
              onBlur: ({ value, fieldApi }) => priceCheck(value, fieldApi.form.getFieldValue("currency")),
              onSubmit: ({ value, fieldApi }) => priceCheck(value, fieldApi.form.getFieldValue("currency")),
            }}
          >
            {(f) => (
              <Field
                label="Price"
                required
                inputMode="decimal"
                autoComplete="off"
                value={f.state.value}
                onBlur={f.handleBlur}
                onChange={(e) => f.handleChange(e.target.value)}
                error={show(f.state.meta, "price")}
              />
            )}
          </form.Field>
          <form.Field name="currency" validators={{ onBlur: checks.currency, onSubmit: checks.currency }}>
            {(f) => (
              <Field
                label="Currency"
                required
                maxLength={3}
                autoComplete="off"
                placeholder="USD"
                value={f.state.value}
                onBlur={f.handleBlur}
                onChange={(e) => f.handleChange(e.target.value.toUpperCase())}
                error={show(f.state.meta, "currency")}
              />
            )}
          </form.Field>
          <form.Field name="weight" validators={{ onBlur: checks.weight, onSubmit: checks.weight }}>
            {(f) => (
              <Field
                label="Weight (g)"
                inputMode="numeric"
                value={f.state.value}
                onBlur={f.handleBlur}
                onChange={(e) => f.handleChange(e.target.value)}
                error={show(f.state.meta, "weight_grams")}
              />
            )}
          </form.Field>
          <form.Field name="status">
            {(f) => (
              <SelectField label="Status" value={f.state.value} onChange={(e) => f.handleChange(e.target.value as ProductStatus)} error={serverField("status")}>
                <option value="active">Active</option>
                <option value="archived">Archived</option>
              </SelectField>
            )}
          </form.Field>
          {base ? null : (
            <form.Field name="initialStock" validators={{ onBlur: checks.initialStock, onSubmit: checks.initialStock }}>
              {(f) => (
                <Field
                  label="Initial stock"
                  inputMode="numeric"
                  value={f.state.value}
                  onBlur={f.handleBlur}
                  onChange={(e) => f.handleChange(e.target.value)}
                  error={show(f.state.meta, "initial_stock")}
                />
              )}
            </form.Field>
          )}
          <div className="wide">
            <form.Field name="images" validators={{ onBlur: checks.images, onSubmit: checks.images }}>
              {(f) => (
                <TextAreaField
                  label="Image URLs"
                  hint="One http(s) URL a line, at most 20."
                  rows={4}
                  spellCheck={false}
                  value={f.state.value}
                  onBlur={f.handleBlur}
                  onChange={(e) => f.handleChange(e.target.value)}
                  error={show(f.state.meta, "images")}
                />
              )}
            </form.Field>
          </div>
        </div>
        <div className="admin-actions">
          <form.Subscribe selector={(s) => s.isSubmitting}>
            {(busy) => (
              <button type="submit" disabled={busy || save.isPending || conflict !== null}>
                Save
              </button>
            )}
          </form.Subscribe>
          {base && base.status === "active" ? (
            <button type="button" onClick={onArchive} disabled={archive.isPending}>
              Archive
            </button>
          ) : null}
          {conflict ? <span className="admin-note">Resolve the conflict above before saving again.</span> : null}
        </div>
      </form>
    </section>
  );
}

// ---------------------------------------------------------------------------
// Stock: the figures, an adjustment, and the ledger.

const deltaCheck: Check = (v) => {
  const s = v.trim();
  if (s === "") return "Stock change is required.";
  if (!/^[+-]?\d+$/.test(s)) return "Enter a whole number, negative to remove stock (e.g. -3).";
  const n = Number(s);
  if (n === 0) return "Stock change must not be 0.";
  if (Math.abs(n) > 1_000_000_000) return "Stock change must be between -1000000000 and 1000000000.";
  return undefined;
};
const reasonCheck = all(required("Reason"), maxLen(200));
const referenceCheck = all(maxLen(200));

function StockPanel({ product }: { product: Product }) {
  const qc = useQueryClient();
  const id = product.id;
  const [done, setDone] = useState<string | null>(null);

  const ledger = useInfiniteQuery({
    queryKey: ledgerKey(id),
    queryFn: async ({ pageParam, signal }) =>
      unwrap(await api.GET("/api/v1/admin/products/{id}/stock/ledger", { params: { path: { id }, query: { limit: 20, cursor: pageParam } }, signal })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    staleTime: 0,
  });

  const adjust = useMutation({
    mutationFn: async (body: { delta: number; reason: string; reference?: string }) =>
      unwrap(await api.POST("/api/v1/admin/products/{id}/stock", { params: { path: { id } }, body })),
    onSuccess: async (p) => {
      // Only the stock figures: the editor keeps the version it was loaded at.
      qc.setQueryData<Product>(productKey(id), (old) => (old ? { ...old, stock: p.stock } : p));
      void qc.invalidateQueries({ queryKey: ["admin", "products"] });
      await qc.invalidateQueries({ queryKey: ledgerKey(id) });
    },
  });

  const form = useForm({
    defaultValues: { delta: "", reason: "", reference: "" },
    canSubmitWhenInvalid: true,
    onSubmit: async ({ value }) => {
      setDone(null);
      const delta = Number(value.delta.trim());
      const reference = value.reference.trim();
      const p = await adjust.mutateAsync({ delta, reason: value.reason.trim(), ...(reference ? { reference } : {}) }).catch(() => null);
      if (p) {
        setDone(`Stock ${delta > 0 ? "added" : "removed"}: ${Math.abs(delta)}. On hand is now ${p.stock.on_hand}.`);
        form.reset();
      }
    },
  });
  const submitted = useStore(form.store, (s) => s.submissionAttempts > 0);
  const err = adjust.error;
  const rows = ledger.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section className="admin-page" aria-labelledby="stock-title">
      <h2 id="stock-title">Stock</h2>
      <dl className="stock-figures" aria-label="Current stock">
        <div>
          <dt>On hand</dt>
          <dd>{product.stock.on_hand}</dd>
        </div>
        <div>
          <dt>Reserved</dt>
          <dd>{product.stock.reserved}</dd>
        </div>
        <div>
          <dt>Available</dt>
          <dd>{product.stock.available}</dd>
        </div>
      </dl>

      <form
        className="admin-form admin-panel"
        noValidate
        aria-label="Adjust stock"
        onSubmit={(e) => {
          e.preventDefault();
          void form.handleSubmit();
        }}
      >
        <FormAlert error={err} fields={["delta", "reason", "reference"]} />
        {done ? <p role="status">{done}</p> : null}
        <div className="admin-form-grid">
          <form.Field name="delta" validators={{ onBlur: ({ value }) => deltaCheck(value), onSubmit: ({ value }) => deltaCheck(value) }}>
            {(f) => (
              <Field
                label="Stock change"
                inputMode="numeric"
                placeholder="e.g. 10 or -2"
                {...bindField(f, submitted, err, "delta")}
              />
            )}
          </form.Field>
          <form.Field name="reason" validators={{ onBlur: reasonCheck, onSubmit: reasonCheck }}>
            {(f) => (
              <Field
                label="Reason"
                placeholder="e.g. received shipment"
                {...bindField(f, submitted, err, "reason")}
              />
            )}
          </form.Field>
          <form.Field name="reference" validators={{ onBlur: referenceCheck, onSubmit: referenceCheck }}>
            {(f) => (
              <Field
                label="Reference"
                placeholder="optional, e.g. a purchase order"
                {...bindField(f, submitted, err, "reference")}
              />
            )}
          </form.Field>
        </div>
        <form.Subscribe selector={(s) => s.isSubmitting}>
          {(busy) => (
            <button type="submit" disabled={busy}>
              Adjust stock
            </button>
          )}
        </form.Subscribe>
      </form>

      <h3 id="ledger-title">Stock ledger</h3>
      {ledger.error ? <QueryError error={ledger.error} /> : null}
      {ledger.isPending ? <p role="status">Loading…</p> : null}
      {ledger.isSuccess ? (
        <>
          <div className="admin-table-wrap">
            <table className="admin-table" aria-labelledby="ledger-title">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col" className="num">
                    On hand
                  </th>
                  <th scope="col" className="num">
                    Reserved
                  </th>
                  <th scope="col">Reason</th>
                  <th scope="col">Reference</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.id}>
                    <td>{new Date(r.created_at).toLocaleString()}</td>
                    <td>{r.kind}</td>
                    <td className="num">{signed(r.delta_on_hand)}</td>
                    <td className="num">{signed(r.delta_reserved)}</td>
                    <td>{r.reason}</td>
                    <td>{r.reference}</td>
                  </tr>
                ))}
                {rows.length === 0 ? (
                  <tr>
                    <td colSpan={6} className="muted">
                      No stock movements yet.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          {ledger.hasNextPage ? (
            <p className="admin-more">
              <button type="button" onClick={() => void ledger.fetchNextPage()} disabled={ledger.isFetchingNextPage}>
                {ledger.isFetchingNextPage ? "Loading…" : "Older movements"}
              </button>
            </p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
