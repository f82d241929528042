import { useState, type InputHTMLAttributes } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm, useStore } from "@tanstack/react-form";
import { api } from "../api/client";
import { ProblemError, unwrap } from "../api/problem";
import type { components } from "../api/schema";
import { Field } from "./Field";
import { QueryError } from "./QueryError";
import { addressesKey, addressesQuery, profileQuery } from "./queries";
import "./account.css";
import { addressFormat } from "./address";

type Address = components["schemas"]["auth.Address"];
type User = components["schemas"]["auth.User"];


// serverErrors maps a failed request's field errors by JSON field name.
function serverErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (err instanceof ProblemError) {
    for (const e of err.errors) {
      const name = e.field.split(".").pop() ?? e.field;
      out[name] ??= e.message;
    }
  }
  return out;
}

// FormAlert is the form's role="alert" summary: field errors are shown
// next to their fields, anything else here.
function FormAlert({ error, fields }: { error: unknown; fields: readonly string[] }) {
  if (!error) return null;
  if (error instanceof ProblemError) {
    const other = error.errors.filter((e) => !fields.includes(e.field.split(".").pop() ?? e.field));
    if (error.errors.length > 0 && other.length === 0) {
      return (
        <p role="alert" className="error">
          Please correct the errors below.
        </p>
      );
    }
    return (
      <p role="alert" className="error">
        {other.length > 0 ? other.map((e) => `${e.field}: ${e.message}`).join(" ") : error.message}
      </p>
    );
  }
  return (
    <p role="alert" className="error">
      Something went wrong. Please try again.
    </p>
  );
}

// --- Validation, mirroring the server (internal/platform/address, auth/domain).

const MAX_LEN = 200;
const runes = (s: string) => [...s].length;

function validName(v: string): string | undefined {
  const t = v.trim();
  if (t === "" || runes(t) > 100) return "Name must be 1 to 100 characters";
  return undefined;
}

type AddressValues = {
  label: string;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postal_code: string;
  country: string;
  phone: string;
  is_default: boolean;
};
type TextKey = Exclude<keyof AddressValues, "is_default">;
const addressFields: readonly TextKey[] = ["label", "line1", "line2", "city", "region", "postal_code", "country", "phone"];

const labels: Record<TextKey, string> = {
  label: "Label",
  line1: "Address line 1",
  line2: "Address line 2",
  city: "City",
  region: "Region",
  postal_code: "Postal code",
  country: "Country",
  phone: "Phone",
};
const required: ReadonlySet<TextKey> = new Set<TextKey>(["line1", "city", "postal_code", "country"]);

export function validateAddressField(k: TextKey, v: string): string | undefined {
  const t = v.trim();
  if (required.has(k) && t === "") return `${labels[k]} is required`;
  if (runes(t) > MAX_LEN) return `${labels[k]} must be at most ${MAX_LEN} characters`;
  if (k === "country" || k === "phone") return addressFormat(k, t);
  return undefined;
}

const emptyAddress: AddressValues = { label: "", line1: "", line2: "", city: "", region: "", postal_code: "", country: "", phone: "", is_default: false };

function toValues(a: Address): AddressValues {
  return { label: a.label, line1: a.line1, line2: a.line2, city: a.city, region: a.region, postal_code: a.postal_code, country: a.country, phone: a.phone, is_default: a.is_default };
}

function toBody(v: AddressValues) {
  const body = { ...v };
  for (const k of addressFields) body[k] = v[k].trim();
  body.country = body.country.toUpperCase();
  return body;
}

const fieldAttrs: Partial<Record<TextKey, InputHTMLAttributes<HTMLInputElement>>> = {
  label: { placeholder: "Home, Work…" },
  line1: { autoComplete: "address-line1" },
  line2: { autoComplete: "address-line2" },
  city: { autoComplete: "address-level2" },
  region: { autoComplete: "address-level1" },
  postal_code: { autoComplete: "postal-code" },
  country: { autoComplete: "country", placeholder: "US", maxLength: 2 },
  phone: { autoComplete: "tel", type: "tel" },
};

// --- The page.

export function AccountPage() {
  return (
    <section className="account-page">
      <h1>Your account</h1>
      <Profile />
      <Addresses />
    </section>
  );
}

function Profile() {
  const me = useQuery(profileQuery);
  return (
    <section className="account-card" aria-labelledby="profile-h">
      <h2 id="profile-h">Profile</h2>
      {me.isPending ? <p role="status">Loading…</p> : null}
      {me.error ? <QueryError error={me.error} /> : null}
      {me.data ? <ProfileForm user={me.data} /> : null}
    </section>
  );
}

function ProfileForm({ user }: { user: User }) {
  const qc = useQueryClient();
  const [server, setServer] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: async (name: string) => unwrap(await api.PATCH("/api/v1/me", { body: { name } })),
    onSuccess: (u) => qc.setQueryData(profileQuery.queryKey, u),
    onError: (e) => setServer(serverErrors(e)),
  });
  const form = useForm({
    defaultValues: { name: user.name },
    onSubmit: async ({ value }) => {
      setServer({});
      await save.mutateAsync(value.name.trim()).catch(() => undefined);
    },
  });
  const attempts = useStore(form.store, (s) => s.submissionAttempts);

  return (
    <>
      <p className="muted">
        Signed in as <strong>{user.email}</strong>
      </p>
      <form
        noValidate
        className="profile-form"
        aria-label="Profile"
        onSubmit={(e) => {
          e.preventDefault();
          void form.handleSubmit();
        }}
      >
        <FormAlert error={save.error} fields={["name"]} />
        <form.Field name="name" validators={{ onChange: ({ value }) => validName(value), onBlur: ({ value }) => validName(value) }}>
          {(field) => (
            <Field
              label="Name"
              autoComplete="name"
              required
              value={field.state.value}
              onBlur={field.handleBlur}
              onChange={(e) => {
                field.handleChange(e.target.value);
                if (server.name) setServer((s) => ({ ...s, name: "" }));
                if (save.isSuccess) save.reset();
              }}
              error={(field.state.meta.isBlurred || attempts > 0 ? firstError(field.state.meta.errors) : undefined) || server.name || undefined}
            />
          )}
        </form.Field>
        <form.Subscribe selector={(s) => s.isSubmitting}>
          {(submitting) => (
            <button type="submit" disabled={submitting}>
              Save
            </button>
          )}
        </form.Subscribe>
        {save.isSuccess ? (
          <p role="status" className="acct-ok">
            Saved.
          </p>
        ) : null}
      </form>
    </>
  );
}

function firstError(errors: unknown[]): string | undefined {
  return errors.find((e): e is string => typeof e === "string" && e !== "");
}

function Addresses() {
  const list = useQuery(addressesQuery);
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <section className="account-card" aria-labelledby="addr-h">
      <h2 id="addr-h">Addresses</h2>
      {list.isPending ? <p role="status">Loading…</p> : null}
      {list.error ? <QueryError error={list.error} /> : null}
      {list.data && list.data.length === 0 ? <p className="muted">No saved addresses yet.</p> : null}
      {list.data && list.data.length > 0 ? (
        <ul className="address-list">
          {list.data.map((a) =>
            editing === a.id ? (
              <li key={a.id} className="address-item">
                <AddressForm address={a} onDone={() => setEditing(null)} />
              </li>
            ) : (
              <AddressItem key={a.id} address={a} onEdit={() => setEditing(a.id)} />
            ),
          )}
        </ul>
      ) : null}
      {/* One address form at a time: the add form waits while one is edited. */}
      {editing ? null : (
        <>
          <h3>Add an address</h3>
          <AddressForm />
        </>
      )}
    </section>
  );
}

function AddressItem({ address: a, onEdit }: { address: Address; onEdit: () => void }) {
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: addressesKey });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/me/addresses/{id}", { params: { path: { id: a.id } } })),
    onSuccess: refresh,
  });
  const makeDefault = useMutation({
    mutationFn: async () => unwrap(await api.PATCH("/api/v1/me/addresses/{id}", { params: { path: { id: a.id } }, body: { is_default: true } })),
    onSuccess: refresh,
  });
  const name = a.label || a.line1;
  return (
    <li className={a.is_default ? "address-item default" : "address-item"}>
      <address>
        {a.label ? <strong>{a.label}</strong> : null}
        {a.is_default ? <span className="acct-badge">Default</span> : null}
        <span>{a.line1}</span>
        {a.line2 ? <span>{a.line2}</span> : null}
        <span>{[a.postal_code, a.city, a.region].filter(Boolean).join(" ")}</span>
        <span>{a.country}</span>
        {a.phone ? <span>{a.phone}</span> : null}
      </address>
      <div className="address-actions">
        <button type="button" className="link" onClick={onEdit}>
          Edit<span className="visually-hidden"> {name}</span>
        </button>
        {a.is_default ? null : (
          <button type="button" className="link" onClick={() => makeDefault.mutate()} disabled={makeDefault.isPending}>
            Make default<span className="visually-hidden"> {name}</span>
          </button>
        )}
        {confirming ? (
          <>
            <button type="button" className="acct-danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
              Confirm delete<span className="visually-hidden"> {name}</span>
            </button>
            <button type="button" className="link" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" className="link acct-danger-link" onClick={() => setConfirming(true)}>
            Delete<span className="visually-hidden"> {name}</span>
          </button>
        )}
      </div>
      {remove.error ? <QueryError error={remove.error} /> : null}
      {makeDefault.error ? <QueryError error={makeDefault.error} /> : null}
    </li>
  );
}

// AddressForm adds an address, or edits one (address given).
function AddressForm({ address, onDone }: { address?: Address; onDone?: () => void }) {
  const qc = useQueryClient();
  const [server, setServer] = useState<Record<string, string>>({});
  const [added, setAdded] = useState(false);
  const save = useMutation({
    mutationFn: async (v: AddressValues) => {
      const body = toBody(v);
      return address
        ? unwrap(await api.PATCH("/api/v1/me/addresses/{id}", { params: { path: { id: address.id } }, body }))
        : unwrap(await api.POST("/api/v1/me/addresses", { body }));
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: addressesKey }),
    onError: (e) => setServer(serverErrors(e)),
  });
  const form = useForm({
    defaultValues: address ? toValues(address) : emptyAddress,
    onSubmit: async ({ value, formApi }) => {
      setServer({});
      setAdded(false);
      try {
        await save.mutateAsync(value);
      } catch {
        return; // shown by FormAlert and next to the fields
      }
      if (address) onDone?.();
      else {
        formApi.reset();
        setAdded(true);
      }
    },
  });
  const attempts = useStore(form.store, (s) => s.submissionAttempts);

  const text = (k: TextKey) => (
    <form.Field key={k} name={k} validators={{ onChange: ({ value }) => validateAddressField(k, value), onBlur: ({ value }) => validateAddressField(k, value) }}>
      {(field) => (
        <Field
          label={labels[k]}
          required={required.has(k)}
          {...fieldAttrs[k]}
          value={field.state.value}
          onBlur={field.handleBlur}
          onChange={(e) => {
            field.handleChange(k === "country" ? e.target.value.toUpperCase() : e.target.value);
            if (server[k]) setServer((s) => ({ ...s, [k]: "" }));
            setAdded(false);
          }}
          error={(field.state.meta.isBlurred || attempts > 0 ? firstError(field.state.meta.errors) : undefined) || server[k] || undefined}
        />
      )}
    </form.Field>
  );

  return (
    <form
      noValidate
      className="address-form"
      aria-label={address ? `Edit address ${address.label || address.line1}` : "Add an address"}
      onSubmit={(e) => {
        e.preventDefault();
        void form.handleSubmit();
      }}
    >
      <FormAlert error={save.error} fields={addressFields} />
      <p className="muted form-note">Address line 1, city, postal code and country are required.</p>
      <div className="address-grid">
        {text("label")}
        <div className="span-2">{text("line1")}</div>
        <div className="span-2">{text("line2")}</div>
        {text("city")}
        {text("region")}
        {text("postal_code")}
        {text("country")}
        {text("phone")}
      </div>
      <form.Field name="is_default">
        {(field) => (
          <div className="check">
            <input
              id={`${address?.id ?? "new"}-default`}
              type="checkbox"
              checked={field.state.value}
              disabled={address?.is_default}
              onChange={(e) => field.handleChange(e.target.checked)}
            />
            <label htmlFor={`${address?.id ?? "new"}-default`}>Use as my default address</label>
          </div>
        )}
      </form.Field>
      <div className="form-actions">
        <form.Subscribe selector={(s) => s.isSubmitting}>
          {(submitting) => (
            <button type="submit" disabled={submitting}>
              {address ? "Save address" : "Add address"}
            </button>
          )}
        </form.Subscribe>
        {address ? (
          <button type="button" className="link" onClick={onDone}>
            Cancel
          </button>
        ) : null}
      </div>
      {added ? (
        <p role="status" className="acct-ok">
          Address added.
        </p>
      ) : null}
    </form>
  );
}
