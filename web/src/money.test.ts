import { describe, expect, it } from "vitest";
import { currencyExponent, formatMoney } from "./money";

describe("formatMoney", () => {
  it("uses two decimals for USD and EUR", () => {
    expect(formatMoney(1999, "USD", "en-US")).toBe("$19.99");
    expect(formatMoney(5, "usd", "en-US")).toBe("$0.05");
    expect(formatMoney(123456, "EUR", "de-DE").replace(/\s/g, " ")).toBe("1.234,56 €");
  });
  it("uses no decimals for JPY", () => {
    expect(currencyExponent("JPY")).toBe(0);
    expect(formatMoney(1500, "JPY", "en-US")).toBe("¥1,500");
  });
  it("uses three decimals for KWD", () => {
    expect(currencyExponent("KWD")).toBe(3);
    expect(formatMoney(1234, "KWD", "en-US")).toMatch(/1\.234/);
  });
});

import { toMajor, toMinor } from "./money";

describe("toMinor/toMajor", () => {
  it("parses typed amounts by the currency's digits", () => {
    expect(toMinor("19.99", "USD")).toBe(1999);
    expect(toMinor("20", "USD")).toBe(2000);
    expect(toMinor("0,5", "EUR")).toBe(50);
    expect(toMinor("1500", "JPY")).toBe(1500);
    expect(toMinor("1.5", "JPY")).toBeNull();
    expect(toMinor("1.999", "USD")).toBeNull();
    expect(toMinor("-1", "USD")).toBeNull();
    expect(toMinor("abc", "USD")).toBeNull();
    expect(toMajor(1999, "USD")).toBe("19.99");
    expect(toMajor(1500, "JPY")).toBe("1500");
  });
});
