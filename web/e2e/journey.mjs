// The storefront journey of issue 15 in a real Chromium (Debian's, via
// playwright-core): register → verification email → sign in → search
// with a typo → product → cart → promo → checkout → pay with the test
// card → status turns Paid live → notifications rise → support chat with
// an admin in a second browser context → a declined second order.
// Screenshots (desktop and mobile) go to OUT_DIR; the budgets measured
// here are printed as one `BUDGET {json}` line for the Go harness.
//
// Driven only by role + accessible name (the web contract), never CSS.
import { chromium } from "playwright-core";
import { env, FLAGS, fail } from "./lib.mjs";
import { mkdirSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";

const BASE = env("BASE_URL");
const MAIL = env("MAIL_URL");
const OUT = env("OUT_DIR");
const ADMIN_EMAIL = env("ADMIN_EMAIL");
const ADMIN_PASSWORD = env("ADMIN_PASSWORD");
mkdirSync(OUT, { recursive: true });

const DESKTOP = { width: 1280, height: 800 };
const MOBILE = { width: 390, height: 844 };

const step = (s) => console.log(`journey: ${s}`);

async function expectVisible(locator, what, timeout = 10000) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
  } catch (e) {
    fail(`${what}: not visible within ${timeout} ms (${e.message.split("\n")[0]})`);
  }
}

async function shot(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

// The verification email, as the shopper's mail client would show it.
async function mailLink(to, pathPart) {
  const r = await fetch(`${MAIL}/mail?to=${encodeURIComponent(to)}&contains=${encodeURIComponent(pathPart)}`);
  if (!r.ok) fail(`no email to ${to} with ${pathPart}`);
  const text = await r.text();
  const m = text.match(new RegExp(`https?://[^\\s"<>]+${pathPart.replace("?", "\\?")}[^\\s"<>]+`));
  if (!m) fail(`no ${pathPart} link in the email:\n${text}`);
  return m[0];
}

// Gzipped size of a same-origin asset as the server sends it to a
// client that accepts only gzip (the budget is stated in gzip bytes).
function gzipSize(url) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { "Accept-Encoding": "gzip" } }, (res) => {
      let n = 0;
      res.on("data", (c) => (n += c.length));
      res.on("end", () => resolve({ n, enc: res.headers["content-encoding"] ?? "identity" }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function unreadCount(page) {
  const b = page.getByRole("button", { name: /^Notifications/ }).first();
  await expectVisible(b, "the notifications button");
  const name = (await b.getAttribute("aria-label")) ?? (await b.textContent()) ?? "";
  const m = name.match(/(\d+) unread/);
  return m ? Number(m[1]) : 0;
}

async function signIn(page, email, password) {
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

// Fills the checkout's new-address form when it is shown (a saved
// address is otherwise selected), picks the courier, places the order.
async function checkout(page, courier) {
  await expectVisible(page.getByRole("heading", { name: /Checkout/ }), "the checkout page");
  const line1 = page.getByLabel("Address line 1");
  const newAddr = page.getByRole("radio", { name: /New address/ });
  if ((await line1.count()) === 0 && (await newAddr.count()) > 0 && !(await page.getByRole("radio", { checked: true }).count())) await newAddr.click();
  if (await line1.isVisible().catch(() => false)) {
    const name = page.getByLabel("Name", { exact: true });
    if (await name.isVisible().catch(() => false)) await name.fill("Ada Shopper");
    await line1.fill("1 Main Street");
    await page.getByLabel("City").fill("Springfield");
    await page.getByLabel("Postal code").fill("12345");
    const country = page.getByLabel("Country");
    if ((await country.evaluate((el) => el.tagName)) === "SELECT") await country.selectOption("US");
    else await country.fill("US");
    await page.getByLabel("Phone").fill("+1 555 0100");
  }
  await page.getByRole("radio", { name: courier }).check();
  // The live quote for the chosen courier.
  await expectVisible(page.getByText(/Shipping/).first(), "the shipping line");
  await page.waitForTimeout(400);
  await page.getByRole("button", { name: "Place order" }).click();
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/, { timeout: 15000 });
  const status = page.getByRole("status", { name: "Order status" });
  await expectVisible(status, "the order status");
  const text = (await status.textContent())?.trim();
  if (text !== "Awaiting payment") fail(`new order status is ${text}, want Awaiting payment`);
  return page.url().split("/").pop();
}

async function addToCart(page, query, product) {
  const box = page.getByRole("searchbox", { name: "Search products" });
  await box.fill(query);
  await box.press("Enter");
  const card = page.getByRole("article", { name: product });
  await expectVisible(card, `search "${query}" finds ${product}`);
  await card.getByRole("link", { name: product }).click();
  await expectVisible(page.getByRole("heading", { name: product }), `${product}'s page`);
  // The header must come to show the cart the server answered with. A
  // count read before the click may be stale (the previous order empties
  // the cart through an event, and the page learns of it later), so
  // "more than before" could wait for ever.
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/api/v1/cart/items"),
    page.getByRole("button", { name: "Add to cart" }).click(),
  ]);
  if (!res.ok()) fail(`add to cart answered ${res.status()}`);
  const cart = await res.json();
  const want = (cart.items ?? []).reduce((n, l) => n + l.quantity, 0);
  if (want < 1) fail(`the cart after adding ${product} holds ${want} items`);
  await page.waitForFunction(
    (n) => {
      const a = [...document.querySelectorAll("a")].find((x) => /^Cart/.test(x.textContent ?? ""));
      const m = a?.textContent?.match(/\((\d+)\)/);
      return m ? Number(m[1]) === n : false;
    },
    want,
    { timeout: 10000 },
  );
}

const browser = await chromium.launch({ executablePath: env("CHROMIUM"), args: FLAGS, headless: true });
const budget = {};
try {
  // ── Home: LCP and the initial JavaScript, on a cold load ─────────────
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  step("home");
  await page.goto(BASE + "/", { waitUntil: "load" });
  await expectVisible(page.getByRole("article", { name: "Wireless Headphones" }), "featured products on the home page");
  budget.home_lcp_ms = await page.evaluate(
    () =>
      new Promise((resolve) => {
        new PerformanceObserver((list) => {
          const e = list.getEntries();
          resolve(e[e.length - 1].startTime);
        }).observe({ type: "largest-contentful-paint", buffered: true });
        setTimeout(() => resolve(-1), 3000);
      }),
  );
  const scripts = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((e) => e.name.endsWith(".js"))
      .map((e) => e.name),
  );
  let js = 0;
  for (const u of scripts) {
    const { n, enc } = await gzipSize(u);
    if (enc !== "gzip") fail(`${u} is not served gzip-compressed (Content-Encoding ${enc})`);
    js += n;
  }
  budget.initial_js_gzip_bytes = js;
  budget.initial_js_files = scripts.map((u) => new URL(u).pathname);
  await shot(page, "desktop-home");

  // ── Register, verify from the email, sign in ─────────────────────────
  const email = `ada+${Date.now()}@shop.test`;
  const password = "correct horse battery";
  step("register " + email);
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByRole("link", { name: /Create an account/ }).click();
  await page.getByLabel("Name", { exact: true }).fill("Ada Shopper");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expectVisible(page.getByRole("heading", { name: "Check your email" }), "the check-your-email page");
  const verify = await mailLink(email, "/verify-email?token=");
  step("open the verification link");
  await page.goto(verify);
  await expectVisible(page.getByText("Your email is verified."), "the verified message");
  await page.getByRole("link", { name: "Sign in" }).last().click();
  await signIn(page, email, password);
  await expectVisible(page.getByRole("button", { name: "Sign out" }), "signed in");
  await page.evaluate(() => {
    window.__journey = "no reload since sign-in";
  });

  // ── Search with a typo, live results as the shopper types ───────────
  step("search with a typo");
  const box = page.getByRole("searchbox", { name: "Search products" });
  await box.fill("kettle");
  await box.press("Enter");
  await expectVisible(page.getByRole("article", { name: "Electric Kettle" }), "results for kettle");
  await box.fill("");
  await box.pressSequentially("wireles headphnes", { delay: 40 });
  const typedAt = Date.now();
  await page.getByRole("article", { name: "Wireless Headphones" }).waitFor({ state: "visible", timeout: 5000 });
  await page.waitForFunction(() => !document.body.textContent?.includes("Electric Kettle"), null, { timeout: 5000 });
  budget.search_ms = Date.now() - typedAt;
  await shot(page, "desktop-search");

  // ── Product → cart → promo ───────────────────────────────────────────
  step("product and cart");
  await page.getByRole("article", { name: "Wireless Headphones" }).getByRole("link", { name: "Wireless Headphones" }).click();
  await expectVisible(page.getByRole("heading", { name: "Wireless Headphones" }), "the product page");
  await expectVisible(page.getByText(/in stock/i), "the stock state");
  await shot(page, "desktop-product");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expectVisible(page.getByRole("link", { name: "Cart (1)" }), "the cart count");
  await page.getByRole("link", { name: /^Cart/ }).click();
  await page.getByLabel("Promo code").fill("WELCOME10");
  await page.getByRole("button", { name: "Apply" }).click();
  await expectVisible(page.getByText("Discount"), "the promo discount");
  await shot(page, "desktop-cart");
  await page.getByRole("button", { name: "Checkout" }).click();

  // ── Checkout → order → pay → Paid live ───────────────────────────────
  step("checkout");
  const orderId = await checkout(page, "Express");
  await shot(page, "desktop-order-awaiting");
  const unreadBefore = await unreadCount(page);
  step(`pay order ${orderId} with 4242`);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  // Every text the status shows, recorded on each DOM mutation: the
  // status turning Paid is seen even if the shipment is booked
  // (Preparing) a moment later.
  await page.evaluate(() => {
    window.__statuses = [];
    const read = () => {
      const t = document.querySelector('[role="status"][aria-label="Order status"]')?.textContent?.trim();
      if (t && window.__statuses.at(-1) !== t) window.__statuses.push(t);
    };
    read();
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByRole("button", { name: "Pay" }).click();
  await page.waitForFunction(() => window.__statuses.includes("Paid"), null, { timeout: 20000 });
  step("status went " + (await page.evaluate(() => window.__statuses.join(" → "))));
  if ((await page.evaluate(() => window.__journey)) !== "no reload since sign-in") fail("the page reloaded");
  await page.waitForFunction(
    (n) => {
      const b = [...document.querySelectorAll("button")].find((x) => /^Notifications/.test(x.getAttribute("aria-label") ?? x.textContent ?? ""));
      const m = (b?.getAttribute("aria-label") ?? b?.textContent ?? "").match(/(\d+) unread/);
      return m ? Number(m[1]) > n : false;
    },
    unreadBefore,
    { timeout: 15000 },
  );
  step(`notifications ${unreadBefore} → ${await unreadCount(page)} unread`);
  await shot(page, "desktop-order-paid");

  // ── Support chat: shopper and an admin in a second context ──────────
  step("support chat");
  await page.getByRole("button", { name: "Support", exact: true }).click();
  const log = page.getByRole("log", { name: "Conversation" });
  await expectVisible(log, "the conversation log");
  await page.getByLabel("Message").fill("Hello, when does my order ship?");
  await page.getByRole("button", { name: "Send" }).click();
  await expectVisible(log.getByText("Hello, when does my order ship?"), "the shopper's message in the log");

  const adminCtx = await browser.newContext({ viewport: DESKTOP });
  const admin = await adminCtx.newPage();
  admin.on("pageerror", (e) => console.error("admin page error:", e.message));
  await admin.goto(BASE + "/login?redirect=%2Fadmin%2Fsupport");
  await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
  await expectVisible(admin.getByRole("heading", { name: /Support/ }), "the admin's support inbox");
  await admin.getByRole("button", { name: "Join" }).first().click();
  const adminLog = admin.getByRole("log", { name: "Conversation" });
  await expectVisible(adminLog.getByText("Hello, when does my order ship?"), "the shopper's message on the admin side");
  await admin.getByLabel("Message").fill("Hi Ada, it ships today.");
  await admin.getByRole("button", { name: "Send" }).click();
  await expectVisible(log.getByText("Hi Ada, it ships today."), "the admin's reply on the shopper side", 15000);
  await shot(page, "desktop-chat-shopper");
  await shot(admin, "desktop-chat-admin");
  await adminCtx.close();
  await page.getByRole("button", { name: "Support", exact: true }).click();

  // ── A second order, declined ─────────────────────────────────────────
  step("second order, declined card");
  await addToCart(page, "electrik ketle", "Electric Kettle");
  await page.getByRole("link", { name: /^Cart/ }).click();
  await page.getByRole("button", { name: "Checkout" }).click();
  await checkout(page, "Standard");
  await page.getByLabel("Card number").fill("4000 0000 0000 0002");
  await page.getByRole("button", { name: "Pay" }).click();
  await expectVisible(page.getByRole("alert").filter({ hasText: /declined/i }), "the decline");
  const st = (await page.getByRole("status", { name: "Order status" }).textContent())?.trim();
  if (st !== "Awaiting payment") fail(`after a decline the status is ${st}`);
  await shot(page, "desktop-order-declined");
  await page.getByRole("link", { name: "Orders", exact: true }).click();
  await expectVisible(page.getByRole("link", { name: new RegExp(orderId.replace(/-/g, "").slice(-8)) }), "the paid order in the history");
  await shot(page, "desktop-orders");
  await ctx.close();

  // ── Mobile: the same pages at 390×844 fit the screen ────────────────
  step("mobile");
  const mctx = await browser.newContext({ viewport: MOBILE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const m = await mctx.newPage();
  for (const [name, path, ready] of [
    ["home", "/", (p) => p.getByRole("article", { name: "Wireless Headphones" })],
    ["search", "/search?q=mug", (p) => p.getByRole("article", { name: "Ceramic Coffee Mug" })],
    ["login", "/login", (p) => p.getByRole("button", { name: "Sign in" })],
  ]) {
    await m.goto(BASE + path);
    await expectVisible(ready(m), `mobile ${name}`);
    const overflow = await m.evaluate((w) => document.documentElement.scrollWidth - w, MOBILE.width);
    if (overflow > 1) fail(`mobile ${name} scrolls sideways by ${overflow}px`);
    await shot(m, `mobile-${name}`);
  }
  await m.getByRole("article", { name: "Wireless Headphones" }).count();
  await m.goto(BASE + "/search?q=headphones");
  await m.getByRole("article", { name: "Wireless Headphones" }).getByRole("link").click();
  await expectVisible(m.getByRole("button", { name: "Add to cart" }), "mobile product page");
  await shot(m, "mobile-product");
  // Signed in: the header carries more links; the pages still fit.
  await m.goto(BASE + "/login?redirect=%2Forders");
  await signIn(m, email, password);
  await expectVisible(m.getByRole("link", { name: new RegExp(orderId.replace(/-/g, "").slice(-8)) }), "mobile order history");
  for (const [name, go] of [
    ["orders", async () => {}],
    ["order", async () => m.getByRole("link", { name: new RegExp(orderId.replace(/-/g, "").slice(-8)) }).first().click()],
    ["cart", async () => {
      await m.getByRole("link", { name: /^Cart/ }).click();
      await m.getByRole("button", { name: "Checkout" }).isVisible();
    }],
  ]) {
    await go();
    await m.waitForTimeout(300);
    const overflow = await m.evaluate((w) => document.documentElement.scrollWidth - w, MOBILE.width);
    if (overflow > 1) fail(`mobile ${name} (signed in) scrolls sideways by ${overflow}px`);
    await shot(m, `mobile-${name}`);
  }
  await mctx.close();

  console.log("BUDGET " + JSON.stringify(budget));
  step("done");
} finally {
  await browser.close();
}
