import { useId, useRef, useState, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { ProblemError, unwrap } from "../../api/problem";
import type { components } from "../../api/schema";
import { toMajor, toMinor } from "../../money";
import { QueryError } from "../QueryError";
import "./admin.css";

type RateTable = components["schemas"]["fulfillment.RateTable"];
type Courier = components["schemas"]["fulfillment.Rate"]["courier"];

const ratesKey = ["admin", "shipping", "rates"] as const;

interface ZoneRow {
  key: number;
  code: string;
  name: string;
  countries: string;
  isDefault: boolean;
}

interface RateRow {
  key: number;
  zone: string;
  courier: Courier;
  currency: string;
  min: string;
  max: string;
  cost: string;
  eta: string;
}

type ZoneCol = "code" | "name" | "countries" | "is_default";
type RateCol = "zone" | "courier" | "currency" | "min_weight_grams" | "max_weight_grams" | "cost" | "eta_days";

// Errors are keyed like the server's field paths: zones[1].countries,
// rates[3].max_weight_grams (a country's own index is folded into its
// zone's countries input).
type Errors = Record<string, string>;
const zoneKey = (i: number, c: ZoneCol) => `zones[${i}].${c}`;
const rateKey = (i: number, c: RateCol) => `rates[${i}].${c}`;

const curOf = (c: string) => (/^[A-Za-z]{3}$/.test(c.trim()) ? c.trim().toUpperCase() : "USD");

function countryList(s: string): string[] {
  return s
    .split(/[\s,;]+/)
    .map((c) => c.trim().toUpperCase())
    .filter((c) => c !== "");
}

let nextKey = 1;
const newKey = () => nextKey++;

function fromTable(t: RateTable): { zones: ZoneRow[]; rates: RateRow[] } {
  return {
    zones: t.zones.map((z) => ({ key: newKey(), code: z.code, name: z.name, countries: z.countries.join(", "), isDefault: z.is_default })),
    rates: t.rates.map((r) => ({
      key: newKey(),
      zone: r.zone,
      courier: r.courier,
      currency: r.currency,
      min: String(r.min_weight_grams),
      max: String(r.max_weight_grams),
      cost: toMajor(r.cost, curOf(r.currency)),
      eta: String(r.eta_days),
    })),
  };
}

function toTable(zones: ZoneRow[], rates: RateRow[]): RateTable {
  return {
    zones: zones.map((z) => ({ code: z.code.trim(), name: z.name.trim(), countries: countryList(z.countries), is_default: z.isDefault })),
    rates: rates.map((r) => ({
      zone: r.zone.trim(),
      courier: r.courier,
      currency: r.currency.trim().toUpperCase(),
      min_weight_grams: Number(r.min.trim()),
      max_weight_grams: Number(r.max.trim()),
      cost: toMinor(r.cost, curOf(r.currency)) ?? 0,
      eta_days: Number(r.eta.trim()),
    })),
  };
}

const isInt = (s: string) => /^\d+$/.test(s.trim());

// checkTable is the server's check (fulfillment/app RateTable.check and
// the Rate/Zone rules) before a round trip: above all, each country in one
// zone and no overlapping weight bands for a zone, courier and currency
// (a band covers min ≤ weight < max, so 0–1000 and 1000–2000 touch but do
// not overlap).
export function checkTable(zones: ZoneRow[], rates: RateRow[]): { fields: Errors; general: string[] } {
  const f: Errors = {};
  const general: string[] = [];
  const add = (k: string, m: string) => {
    f[k] = f[k] ? `${f[k]} ${m}` : m;
  };
  if (zones.length === 0) general.push("Add at least one zone.");
  if (rates.length === 0) general.push("Add at least one rate.");
  const codes = new Map<string, number>();
  const owner = new Map<string, string>();
  let defaults = 0;
  zones.forEach((z, i) => {
    const code = z.code.trim();
    if (code === "") add(zoneKey(i, "code"), "Code is required.");
    else if (code.length > 20) add(zoneKey(i, "code"), "Use at most 20 characters.");
    else if (codes.has(code)) add(zoneKey(i, "code"), `Zone ${codes.get(code)! + 1} already uses this code.`);
    else codes.set(code, i);
    if (z.name.trim() === "") add(zoneKey(i, "name"), "Name is required.");
    else if (z.name.trim().length > 100) add(zoneKey(i, "name"), "Use at most 100 characters.");
    for (const c of countryList(z.countries)) {
      if (!/^[A-Z]{2}$/.test(c)) {
        add(zoneKey(i, "countries"), `${c} is not a two-letter country code.`);
        continue;
      }
      const other = owner.get(c);
      if (other !== undefined) add(zoneKey(i, "countries"), `${c} is already in zone ${other}.`);
      else owner.set(c, code || `#${i + 1}`);
    }
    if (z.isDefault && ++defaults > 1) add(zoneKey(i, "is_default"), "Only one zone may be the default.");
  });

  const bands = new Map<string, { i: number; min: number; max: number }[]>();
  rates.forEach((r, i) => {
    if (r.zone.trim() === "") add(rateKey(i, "zone"), "Choose a zone.");
    else if (!codes.has(r.zone.trim())) add(rateKey(i, "zone"), "Is not a zone of this table.");
    const cur = r.currency.trim();
    if (!/^[A-Za-z]{3}$/.test(cur)) add(rateKey(i, "currency"), "Use a three-letter code such as USD.");
    const minOk = isInt(r.min) && Number(r.min) <= 1_000_000_000;
    const maxOk = isInt(r.max) && Number(r.max) <= 1_000_000_000;
    if (!minOk) add(rateKey(i, "min_weight_grams"), "Enter whole grams (0 or more).");
    if (!maxOk) add(rateKey(i, "max_weight_grams"), "Enter whole grams.");
    else if (minOk && Number(r.max) <= Number(r.min)) add(rateKey(i, "max_weight_grams"), "Must be more than the minimum weight.");
    if (r.cost.trim() === "" || toMinor(r.cost, curOf(cur)) === null) add(rateKey(i, "cost"), `Enter an amount like ${toMajor(1250, curOf(cur))}.`);
    if (!isInt(r.eta) || Number(r.eta) < 1 || Number(r.eta) > 90) add(rateKey(i, "eta_days"), "Enter 1 to 90 days.");
    if (minOk && maxOk && Number(r.max) > Number(r.min)) {
      const k = `${r.courier}|${r.zone.trim()}|${cur.toUpperCase()}`;
      bands.set(k, [...(bands.get(k) ?? []), { i, min: Number(r.min), max: Number(r.max) }]);
    }
  });
  for (const bs of bands.values()) {
    bs.sort((a, b) => a.min - b.min || a.i - b.i);
    for (let j = 1; j < bs.length; j++) {
      const prev = bs[j - 1]!;
      const cur = bs[j]!;
      if (cur.min < prev.max) {
        const m = `Overlaps rate ${prev.i + 1} (${prev.min}–${prev.max} g) for the same zone, courier and currency.`;
        add(rateKey(cur.i, "min_weight_grams"), m);
      }
    }
  }
  return { fields: f, general };
}

// serverErrors maps the 422's field paths onto the inputs; what names no
// input (the overlap of weight bands, the default zone) is general.
export function serverErrors(e: ProblemError): { fields: Errors; general: string[] } {
  const fields: Errors = {};
  const general: string[] = [];
  const add = (k: string, m: string) => {
    fields[k] = fields[k] ? `${fields[k]} ${m}` : m;
  };
  for (const fe of e.errors) {
    const z = /^zones\[(\d+)\]\.([a-z_]+)(?:\[(\d+)\])?/.exec(fe.field);
    if (z) {
      const col: ZoneCol = z[2] === "countries" ? "countries" : z[2] === "name" ? "name" : z[2] === "is_default" ? "is_default" : "code";
      add(zoneKey(Number(z[1]), col), z[3] !== undefined ? `Country ${Number(z[3]) + 1}: ${fe.message}` : fe.message);
      continue;
    }
    const r = /^rates\[(\d+)\]\.([a-z_]+)/.exec(fe.field);
    if (r) {
      const p = r[2]!;
      const col: RateCol = p.startsWith("max")
        ? "max_weight_grams"
        : p.startsWith("min")
          ? "min_weight_grams"
          : p.startsWith("eta")
            ? "eta_days"
            : p === "cost" || p === "courier" || p === "currency" || p === "zone"
              ? p
              : "zone";
      add(rateKey(Number(r[1]), col), fe.message);
      continue;
    }
    general.push(fe.field ? `${fe.field}: ${fe.message}` : fe.message);
  }
  if (e.errors.length === 0) general.push(e.message);
  return { fields, general };
}

// Cell is one labelled input of an editable table: its label names the
// row ("Rate 2") for assistive technology and shows the column name on
// phones, where the table becomes one card per row.
// Its accessible name is "<row> <column>", e.g. "Rate 2 Max weight (g)".
function Cell({
  row,
  label,
  error,
  children,
}: {
  row: string;
  label: string;
  error: string | undefined;
  children: (p: { id: string; "aria-labelledby": string; "aria-invalid"?: true; "aria-describedby"?: string }) => ReactNode;
}) {
  const id = useId();
  const errId = `${id}-err`;
  return (
    <td>
      <label htmlFor={id}>
        <span id={`${id}-row`} className="visually-hidden">
          {row}
        </span>
        <span id={`${id}-col`} className="cell-label">
          {label}
        </span>
      </label>
      {children({ id, "aria-labelledby": `${id}-row ${id}-col`, ...(error ? { "aria-invalid": true as const, "aria-describedby": errId } : {}) })}
      {error ? (
        <p id={errId} className="field-error">
          {error}
        </p>
      ) : null}
    </td>
  );
}

function Editor({ initial }: { initial: RateTable }) {
  const qc = useQueryClient();
  const [state, setState] = useState(() => fromTable(initial));
  const [errors, setErrors] = useState<Errors>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const summary = useRef<HTMLDivElement>(null);
  const { zones, rates } = state;

  const save = useMutation({
    mutationFn: async (body: RateTable) => unwrap(await api.PUT("/api/v1/admin/shipping/rates", { body })),
    onSuccess: (t) => {
      qc.setQueryData(ratesKey, t);
      setState(fromTable(t));
      setErrors({});
      setGeneral([]);
      setNotice("Saved the rate table.");
    },
    onError: (e) => {
      if (e instanceof ProblemError) {
        const s = serverErrors(e);
        setErrors(s.fields);
        setGeneral(s.general);
      } else {
        setErrors({});
        setGeneral(["Something went wrong. Please try again."]);
      }
    },
  });

  // Editing a cell clears its message; adding or removing a row renumbers
  // the rows, so every message (keyed by index) goes.
  const clear = (k: string) => {
    setNotice(null);
    if (errors[k]) {
      const rest = { ...errors };
      delete rest[k];
      setErrors(rest);
    }
  };
  const renumbered = () => {
    setNotice(null);
    setErrors({});
    setGeneral([]);
  };
  const setZone = (i: number, col: ZoneCol, patch: Partial<ZoneRow>) => {
    clear(zoneKey(i, col));
    setState((s) => ({ ...s, zones: s.zones.map((z, j) => (j === i ? { ...z, ...patch } : z)) }));
  };
  const setRate = (i: number, col: RateCol, patch: Partial<RateRow>) => {
    clear(rateKey(i, col));
    setState((s) => ({ ...s, rates: s.rates.map((r, j) => (j === i ? { ...r, ...patch } : r)) }));
  };

  const onSave = () => {
    setNotice(null);
    const c = checkTable(zones, rates);
    if (Object.keys(c.fields).length > 0 || c.general.length > 0) {
      setErrors(c.fields);
      setGeneral(c.general);
      summary.current?.focus();
      return;
    }
    setErrors({});
    setGeneral([]);
    save.mutate(toTable(zones, rates));
  };

  const zoneCodes = zones.map((z) => z.code.trim()).filter((c) => c !== "");
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;

  return (
    <form
      className="admin-shipping"
      noValidate
      aria-label="Shipping rates"
      onSubmit={(e) => {
        e.preventDefault();
        onSave();
      }}
    >
      <div ref={summary} tabIndex={-1}>
        {hasErrors ? (
          <div role="alert" className="error">
            <p>{general.length > 0 ? general.join(" ") : "Please correct the errors below."}</p>
            {general.length > 0 && Object.keys(errors).length > 0 ? <p>Please also correct the errors below.</p> : null}
          </div>
        ) : null}
        {notice ? (
          <p role="status" className="admin-note">
            {notice}
          </p>
        ) : null}
      </div>

      <h2 id="zones-title">Zones</h2>
      <p className="admin-note">Countries: two-letter codes separated by commas. The default zone covers every country not listed in another zone.</p>
      <div className="admin-table-wrap">
        <table className="edit-table" aria-labelledby="zones-title">
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Name</th>
              <th scope="col">Countries</th>
              <th scope="col">Default</th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {zones.map((z, i) => {
              const row = `Zone ${i + 1}`;
              return (
                <tr key={z.key}>
                  <Cell row={row} label="Code" error={errors[zoneKey(i, "code")]}>
                    {(p) => <input {...p} value={z.code} maxLength={20} onChange={(e) => setZone(i, "code", { code: e.target.value })} />}
                  </Cell>
                  <Cell row={row} label="Name" error={errors[zoneKey(i, "name")]}>
                    {(p) => <input {...p} value={z.name} onChange={(e) => setZone(i, "name", { name: e.target.value })} />}
                  </Cell>
                  <Cell row={row} label="Countries" error={errors[zoneKey(i, "countries")]}>
                    {(p) => <input {...p} value={z.countries} placeholder="e.g. DE, FR" onChange={(e) => setZone(i, "countries", { countries: e.target.value })} />}
                  </Cell>
                  <Cell row={row} label="Default" error={errors[zoneKey(i, "is_default")]}>
                    {(p) => <input {...p} type="checkbox" checked={z.isDefault} onChange={(e) => setZone(i, "is_default", { isDefault: e.target.checked })} />}
                  </Cell>
                  <td>
                    <button
                      type="button"
                      aria-label={`Remove zone ${i + 1}`}
                      onClick={() => {
                        renumbered();
                        setState((s) => ({ ...s, zones: s.zones.filter((_, j) => j !== i) }));
                      }}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p>
        <button
          type="button"
          onClick={() => {
            renumbered();
            setState((s) => ({ ...s, zones: [...s.zones, { key: newKey(), code: "", name: "", countries: "", isDefault: false }] }));
          }}
        >
          Add zone
        </button>
      </p>

      <h2 id="rates-title">Rates</h2>
      <p className="admin-note">
        A band covers parcels from its minimum weight up to (not including) its maximum. Bands of the same zone, courier and currency must not overlap.
      </p>
      <div className="admin-table-wrap">
        <table className="edit-table" aria-labelledby="rates-title">
          <thead>
            <tr>
              <th scope="col">Zone</th>
              <th scope="col">Courier</th>
              <th scope="col">Currency</th>
              <th scope="col">Min weight (g)</th>
              <th scope="col">Max weight (g)</th>
              <th scope="col">Cost</th>
              <th scope="col">ETA (days)</th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rates.map((r, i) => {
              const row = `Rate ${i + 1}`;
              const options = zoneCodes.includes(r.zone.trim()) || r.zone.trim() === "" ? zoneCodes : [r.zone.trim(), ...zoneCodes];
              return (
                <tr key={r.key}>
                  <Cell row={row} label="Zone" error={errors[rateKey(i, "zone")]}>
                    {(p) => (
                      <select {...p} value={r.zone} onChange={(e) => setRate(i, "zone", { zone: e.target.value })}>
                        <option value="">Choose…</option>
                        {[...new Set(options)].map((c) => (
                          <option key={c} value={c}>
                            {c}
                          </option>
                        ))}
                      </select>
                    )}
                  </Cell>
                  <Cell row={row} label="Courier" error={errors[rateKey(i, "courier")]}>
                    {(p) => (
                      <select {...p} value={r.courier} onChange={(e) => setRate(i, "courier", { courier: e.target.value as Courier })}>
                        <option value="standard">Standard</option>
                        <option value="express">Express</option>
                      </select>
                    )}
                  </Cell>
                  <Cell row={row} label="Currency" error={errors[rateKey(i, "currency")]}>
                    {(p) => <input {...p} value={r.currency} maxLength={3} onChange={(e) => setRate(i, "currency", { currency: e.target.value.toUpperCase() })} />}
                  </Cell>
                  <Cell row={row} label="Min weight (g)" error={errors[rateKey(i, "min_weight_grams")]}>
                    {(p) => <input {...p} inputMode="numeric" value={r.min} onChange={(e) => setRate(i, "min_weight_grams", { min: e.target.value })} />}
                  </Cell>
                  <Cell row={row} label="Max weight (g)" error={errors[rateKey(i, "max_weight_grams")]}>
                    {(p) => <input {...p} inputMode="numeric" value={r.max} onChange={(e) => setRate(i, "max_weight_grams", { max: e.target.value })} />}
                  </Cell>
                  <Cell row={row} label="Cost" error={errors[rateKey(i, "cost")]}>
                    {(p) => <input {...p} inputMode="decimal" value={r.cost} onChange={(e) => setRate(i, "cost", { cost: e.target.value })} />}
                  </Cell>
                  <Cell row={row} label="ETA (days)" error={errors[rateKey(i, "eta_days")]}>
                    {(p) => <input {...p} inputMode="numeric" value={r.eta} onChange={(e) => setRate(i, "eta_days", { eta: e.target.value })} />}
                  </Cell>
                  <td>
                    <button
                      type="button"
                      aria-label={`Remove rate ${i + 1}`}
                      onClick={() => {
                        renumbered();
                        setState((s) => ({ ...s, rates: s.rates.filter((_, j) => j !== i) }));
                      }}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p>
        <button
          type="button"
          onClick={() => {
            renumbered();
            setState((s) => {
              const last = s.rates[s.rates.length - 1];
              const row: RateRow = last
                ? { ...last, key: newKey(), min: last.max, max: "", cost: "" }
                : { key: newKey(), zone: s.zones[0]?.code ?? "", courier: "standard", currency: "USD", min: "0", max: "", cost: "", eta: "3" };
              return { ...s, rates: [...s.rates, row] };
            });
          }}
        >
          Add rate
        </button>
      </p>

      <div className="admin-actions">
        <button type="submit" disabled={save.isPending}>
          Save
        </button>
        <span className="admin-note">Saving replaces the whole table.</span>
      </div>
    </form>
  );
}

// ShippingAdmin edits the shipping rate table: zones (which countries go
// where) and the weight bands each courier charges per zone.
export function ShippingAdmin() {
  const q = useQuery({
    queryKey: ratesKey,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/admin/shipping/rates", { signal })),
    staleTime: 0,
    // The editor keeps its own copy: a background refetch must not reset it.
    refetchOnWindowFocus: false,
  });
  return (
    <section className="admin-page">
      <h1>Shipping</h1>
      {q.error ? <QueryError error={q.error} /> : null}
      {q.isPending ? <p role="status">Loading…</p> : null}
      {q.isSuccess ? <Editor initial={q.data} /> : null}
    </section>
  );
}
