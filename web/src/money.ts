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
