// The admin console journey of issue 16 in Debian's chromium: an admin
// creates a product with stock; a shopper (second browser context) buys
// and pays with the test card; the order appears on the admin's list
// without a reload; the admin refunds part of it, ships it with a
// tracking number and marks it delivered, and the shopper's order page
// shows each step live; a stale edit from a second admin tab shows the
// conflict instead of overwriting; a dead-lettered event is retried.
// Driven by role + accessible name only. Screenshots go to OUT_DIR.
import { chromium } from "playwright-core";
import { env, FLAGS, fail } from "./lib.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const BASE = env("BASE_URL");
const OUT = env("OUT_DIR");
const ADMIN_EMAIL = env("ADMIN_EMAIL");
const ADMIN_PASSWORD = env("ADMIN_PASSWORD");
const SHOPPER_EMAIL = env("SHOPPER_EMAIL");
const SHOPPER_PASSWORD = env("SHOPPER_PASSWORD");
const DEAD_LETTER_CONSUMER = process.env.DEAD_LETTER_CONSUMER ?? "";
const WEBHOOK_RECEIVER = process.env.WEBHOOK_RECEIVER ?? "";
mkdirSync(OUT, { recursive: true });

const DESKTOP = { width: 1280, height: 800 };
const step = (s) => console.log(`admin journey: ${s}`);

async function visible(locator, what, timeout = 10000) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
  } catch (e) {
    fail(`${what}: not visible within ${timeout} ms (${e.message.split("\n")[0]})`);
  }
}
// nav is a link of the admin console's navigation.
const nav = (page, name) => page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name, exact: true });
const shot = (page, name) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });

async function signIn(page, path, email, password) {
  await page.goto(BASE + "/login?redirect=" + encodeURIComponent(path));
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

// statusBecomes waits until the shopper's order status shows text, or one
// of the later statuses in `then` (a paid order can move on to Preparing
// before the page's next refresh, so Paid itself may never be drawn),
// recording every value it showed (on each DOM mutation) so a passing
// state counts.
async function statusBecomes(page, text, timeout = 20000, then = []) {
  const accepted = [text, ...then];
  await page.waitForFunction((ts) => ts.some((t) => window.__statuses?.includes(t)), accepted, { timeout }).catch(async () => {
    fail(`the shopper's order status never showed ${accepted.join(" or ")}; it showed ${await page.evaluate(() => (window.__statuses ?? []).join(" → "))}`);
  });
}

const browser = await chromium.launch({ executablePath: env("CHROMIUM"), args: FLAGS, headless: true });
try {
  const adminCtx = await browser.newContext({ viewport: DESKTOP });
  const admin = await adminCtx.newPage();
  admin.on("pageerror", (e) => console.error("admin page error:", e.message));
  admin.on("dialog", (d) => void d.accept());

  step("admin signs in");
  await signIn(admin, "/admin", ADMIN_EMAIL, ADMIN_PASSWORD);
  await visible(admin.getByRole("heading", { name: "Dashboard" }), "the dashboard");
  await shot(admin, "admin-dashboard");

  step("create a product with stock");
  await nav(admin, "Products").click();
  await admin.getByRole("button", { name: "New product" }).click();
  await admin.getByLabel("SKU").fill("LAMP-9");
  await admin.getByLabel("Name", { exact: true }).fill("Brass Floor Lamp");
  await admin.getByLabel("Description").fill("A tall brass lamp.");
  await admin.getByLabel("Category").fill("home");
  await admin.getByLabel("Brand").fill("Lumen");
  await admin.getByLabel("Price").fill("149.00");
  await admin.getByLabel("Currency").fill("USD");
  await admin.getByLabel(/Initial stock/).fill("4");
  const weight = admin.getByLabel(/Weight/);
  if (await weight.count()) await weight.fill("2500");
  await admin.getByRole("button", { name: "Save" }).click();
  await admin.waitForURL(/\/admin\/products\/[0-9a-f-]{36}$/, { timeout: 10000 });
  const productPath = new URL(admin.url()).pathname;
  await shot(admin, "admin-product");

  step("the admin watches the orders list");
  await nav(admin, "Orders").click();
  await visible(admin.getByRole("heading", { name: "Orders" }), "the orders list");
  await admin.evaluate(() => {
    window.__journey = "no reload";
  });

  step("a shopper buys it");
  const shopCtx = await browser.newContext({ viewport: DESKTOP });
  const shop = await shopCtx.newPage();
  shop.on("pageerror", (e) => console.error("shopper page error:", e.message));
  await signIn(shop, "/", SHOPPER_EMAIL, SHOPPER_PASSWORD);
  await visible(shop.getByRole("button", { name: "Sign out" }), "the shopper signed in");
  const box = shop.getByRole("searchbox", { name: "Search products" });
  // Indexing follows the catalogue's events: search until it is found.
  for (let i = 0; i < 20; i++) {
    await box.fill("bras flor lamp");
    await box.press("Enter");
    if (await shop.getByRole("article", { name: "Brass Floor Lamp" }).isVisible({ timeout: 1000 }).catch(() => false)) break;
  }
  await shop.getByRole("article", { name: "Brass Floor Lamp" }).getByRole("link").click();
  await shop.getByRole("button", { name: "Add to cart" }).click();
  await visible(shop.getByRole("link", { name: "Cart (1)" }), "the cart count");
  await shop.getByRole("link", { name: /^Cart/ }).click();
  await shop.getByRole("button", { name: "Checkout" }).click();
  await visible(shop.getByLabel("Address line 1"), "the checkout address form");
  await shop.getByLabel("Address line 1").fill("5 Elm Road");
  await shop.getByLabel("City").fill("Portland");
  await shop.getByLabel("Postal code").fill("97201");
  await shop.getByLabel("Country").fill("US");
  await shop.getByRole("radio", { name: "Standard" }).check();
  await shop.waitForTimeout(300);
  await shop.getByRole("button", { name: "Place order" }).click();
  await shop.waitForURL(/\/orders\/[0-9a-f-]{36}$/, { timeout: 15000 });
  const orderId = shop.url().split("/").pop();
  const short = orderId.replace(/-/g, "").slice(-8);
  await shop.evaluate(() => {
    window.__statuses = [];
    const read = () => {
      const t = document.querySelector('[role="status"][aria-label="Order status"]')?.textContent?.trim();
      if (t && window.__statuses.at(-1) !== t) window.__statuses.push(t);
    };
    read();
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await shop.getByLabel("Card number").fill("4242 4242 4242 4242");
  await shop.getByRole("button", { name: "Pay" }).click();
  await statusBecomes(shop, "Paid", 20000, ["Preparing"]);

  step(`order ${short} appears on the admin's list without a reload`);
  await visible(admin.getByRole("link", { name: short }), "the new order on the admin's list", 15000);
  if ((await admin.evaluate(() => window.__journey)) !== "no reload") fail("the admin's page reloaded");
  await shot(admin, "admin-orders");

  step("partial refund");
  await admin.getByRole("link", { name: short }).click();
  await visible(admin.getByRole("status", { name: "Order status" }), "the admin's order page");
  await admin.getByRole("spinbutton", { name: "Refund amount" }).fill("10");
  await admin.getByLabel("Reason").fill("Scratched base");
  await admin.getByRole("button", { name: "Refund" }).click();
  await visible(admin.getByText("Refund sent."), "the refund confirmation");
  await visible(shop.getByText(/Refund issued/), "the refund on the shopper's page", 15000);
  await shot(admin, "admin-order");

  step("ship with a tracking number");
  await nav(admin, "Fulfillments").click();
  const queue = admin.getByLabel("Queue");
  let row = admin.getByRole("row", { name: new RegExp(short) });
  // Ready to ship once the carrier has booked it (the queue refreshes).
  await queue.selectOption("in_progress");
  await visible(row, "the order in the ready-to-ship queue", 20000);
  await row.getByLabel("Tracking number").fill("TRK-9-0001");
  await row.getByRole("button", { name: "Ship" }).click();
  await statusBecomes(shop, "Shipped");
  await queue.selectOption("shipped");
  row = admin.getByRole("row", { name: new RegExp(short) });
  await visible(row, "the order in the shipped queue");
  await shot(admin, "admin-fulfillments");
  await row.getByRole("button", { name: "Mark delivered" }).click();
  await statusBecomes(shop, "Delivered");
  step("shopper saw " + (await shop.evaluate(() => window.__statuses.join(" → "))));
  await visible(shop.getByText("TRK-9-0001"), "the tracking number on the shopper's page");
  await shot(shop, "shopper-order-delivered");

  step("a stale edit from a second tab");
  const tab2 = await adminCtx.newPage();
  await signIn(tab2, productPath, ADMIN_EMAIL, ADMIN_PASSWORD);
  await visible(tab2.getByLabel("Price"), "the product form in tab 2");
  await admin.goto(BASE + "/login?redirect=" + encodeURIComponent(productPath));
  await admin.getByLabel("Email", { exact: true }).fill(ADMIN_EMAIL);
  await admin.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
  await admin.getByRole("button", { name: "Sign in" }).click();
  await visible(admin.getByLabel("Price"), "the product form in tab 1");
  await admin.getByLabel("Price").fill("139.00");
  await admin.getByRole("button", { name: "Save" }).click();
  await admin.waitForTimeout(500);
  await tab2.getByLabel("Name", { exact: true }).fill("Brass Floor Lamp XL");
  await tab2.getByRole("button", { name: "Save" }).click();
  await visible(tab2.getByRole("button", { name: "Reapply my changes" }), "the conflict panel");
  await shot(tab2, "admin-conflict");
  const priceAfter = await tab2.evaluate(async (p) => {
    const r = await fetch(`/api/v1/products/${p.split("/").pop()}`);
    return (await r.json()).price;
  }, productPath);
  if (priceAfter !== 13900) fail(`the stale save overwrote the price: ${priceAfter}`);
  // Reapplying saves only this tab's edit (the name) on the new version.
  await tab2.getByRole("button", { name: "Reapply my changes" }).click();
  await visible(tab2.getByText(/^Saved/), "the reapplied save");
  const after = await tab2.evaluate(async (p) => (await fetch(`/api/v1/products/${p.split("/").pop()}`)).json(), productPath);
  if (after.price !== 13900 || after.name !== "Brass Floor Lamp XL") fail(`after reapplying: ${after.name} at ${after.price}`);

  if (DEAD_LETTER_CONSUMER) {
    step("retry a dead letter");
    await nav(admin, "Events").click();
    await visible(admin.getByRole("heading", { name: "Events" }), "the events page");
    await admin.getByRole("button", { name: /^Retry/ }).first().click();
    await visible(admin.getByText(/Retried/), "the retried dead letter", 15000);
    await shot(admin, "admin-events");
  }

  if (WEBHOOK_RECEIVER) {
    step("register a webhook and ping it");
    await nav(admin, "Webhooks").click();
    await visible(admin.getByRole("heading", { name: "Webhooks", level: 1 }), "the webhooks page");
    const form = admin.getByRole("form", { name: "Register a webhook" });
    await form.getByLabel("URL").fill(WEBHOOK_RECEIVER);
    await form.getByLabel("Events").fill("ordering.order_paid");
    await form.getByLabel("Description").fill("browser test receiver");
    await form.getByRole("button", { name: "Register" }).click();
    const secret = admin.getByRole("status").filter({ hasText: "Signing secret, shown once" });
    await visible(secret, "the signing secret");
    // The receiver (the Go test) verifies signatures with this secret.
    const code = (await secret.locator("code").textContent())?.trim() ?? "";
    if (!code.startsWith("whsec_")) fail(`the secret shown is ${code}`);
    const res = await fetch(`${WEBHOOK_RECEIVER}/secret`, { method: "PUT", body: code });
    if (!res.ok) fail(`the receiver refused the secret: ${res.status}`);
    await secret.getByRole("button", { name: "Done" }).click();
    const row = admin.getByRole("row").filter({ hasText: WEBHOOK_RECEIVER });
    await row.getByRole("button", { name: "Deliveries" }).click();
    await admin.getByRole("button", { name: "Ping" }).click();
    await visible(admin.getByText(/webhooks\.ping .* succeeded, 1 attempt/), "the delivered ping", 15000);
    await shot(admin, "admin-webhooks");
  }

  step("every console page renders");
  for (const [link, heading] of [
    ["Dashboard", "Dashboard"],
    ["Products", "Products"],
    ["Promotions", "Promotions"],
    ["Shipping", "Shipping"],
    ["Customers", "Customers"],
    ["Support", "Support"],
    ["Search insights", "Search insights"],
    ["Audit log", "Audit log"],
  ]) {
    await nav(admin, link).click();
    await visible(admin.getByRole("heading", { name: heading, level: 1 }), `the ${link} page`);
    await admin.waitForTimeout(400);
    const alerts = await admin.getByRole("alert").allTextContents();
    if (alerts.some((a) => a.trim() !== "")) fail(`the ${link} page shows an error: ${alerts.join(" | ")}`);
    await shot(admin, `admin-${link.toLowerCase().replace(/ /g, "-")}`);
  }
  // The audit log names what this admin did.
  await nav(admin, "Audit log").click();
  await visible(admin.getByText(/POST \/api\/v1\/admin\/orders\/[0-9a-f-]+\/refund/), "the refund in the audit log");

  await shopCtx.close();
  await adminCtx.close();
  step("done");
} finally {
  await browser.close();
}
