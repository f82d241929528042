// Money is carried by the API in minor units (cents) of an ISO 4217
// currency. The number of minor digits is the currency's own (EUR 2,
// JPY 0, KWD 3), which Intl knows.

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string, locale?: string): Intl.NumberFormat {
  const key = `${locale ?? ""}|${currency}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: "currency", currency });
    formatters.set(key, f);
  }
  return f;
}

export function currencyExponent(currency: string): number {
  return formatter(currency, "en").resolvedOptions().maximumFractionDigits ?? 2;
}

export function formatMoney(minor: number, currency: string | null | undefined, locale?: string): string {
  const cur = (currency || "USD").toUpperCase();
  const exp = currencyExponent(cur);
  return formatter(cur, locale).format(minor / 10 ** exp);
}

// toMinor parses an amount typed in major units ("19.99", "20") into minor
// units of the currency; null when it is not a non-negative amount with
// at most the currency's number of decimals.
export function toMinor(major: string, currency: string): number | null {
  const exp = currencyExponent((currency || "USD").toUpperCase());
  const m = /^(\d{1,12})(?:[.,](\d*))?$/.exec(major.trim());
  if (!m) return null;
  const frac = m[2] ?? "";
  if (frac.length > exp) return null;
  return Number(m[1]) * 10 ** exp + (frac === "" ? 0 : Number(frac.padEnd(exp, "0")));
}

// toMajor is the plain (unformatted) major-unit text of a minor amount,
// for prefilling inputs: 1999 USD → "19.99".
export function toMajor(minor: number, currency: string): string {
  const exp = currencyExponent((currency || "USD").toUpperCase());
  return exp === 0 ? String(minor) : (minor / 10 ** exp).toFixed(exp);
}
