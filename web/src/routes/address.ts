// The server's format rules for an address (internal/platform/address),
// shared by the checkout's new-address form and the account's address
// book: the country is an ISO 3166-1 alpha-2 code; a phone has 5 to 20
// digits and only digits, spaces, + - . ( ). Empty values pass (whether a
// field is required is the form's business).
export function addressFormat(field: "country" | "phone", v: string): string | undefined {
  const t = v.trim();
  if (t === "") return undefined;
  if (field === "country") return /^[A-Za-z]{2}$/.test(t) ? undefined : "Country must be a 2-letter ISO code, like US or DE";
  if (!/^[0-9+\-(). ]+$/.test(t)) return "Phone must contain only digits, spaces, +, -, ., ( and )";
  const digits = t.replace(/\D/g, "").length;
  return digits < 5 || digits > 20 ? "Phone must have 5 to 20 digits" : undefined;
}
