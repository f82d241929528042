// The GraphiQL journey in Debian's chromium: a browser opens /graphql and
// gets the GraphiQL bundled into the web build (nothing from another
// origin: any such request fails the journey); it runs a products query
// and sees a seeded product; with the shopper's access token in the
// Headers tab it subscribes to an order's status over WebSocket
// (graphql-transport-ws, the token in connection_init), the order is paid
// over REST, and the new status arrives in the result pane. Driven by role
// and accessible name; screenshots go to OUT_DIR.
import { chromium } from "playwright-core";
import { env, FLAGS, fail } from "./lib.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const BASE = env("BASE_URL");
const OUT = env("OUT_DIR");
const TOKEN = env("ACCESS_TOKEN");
const ORDER_ID = env("ORDER_ID");
const INTENT_ID = env("INTENT_ID");
const PRODUCT = env("PRODUCT_NAME");
mkdirSync(OUT, { recursive: true });

const step = (s) => console.log(`graphiql journey: ${s}`);
const shot = (page, name) => page.screenshot({ path: join(OUT, `${name}.png`) });

// The result pane's text as shown (Monaco renders spaces as U+00A0).
const resultText = (page) =>
  page.evaluate(() => (document.querySelector(".graphiql-response .view-lines")?.textContent ?? "").replace(/\s+/g, " "));

async function resultShows(page, what, text, timeout = 15000) {
  await page
    .waitForFunction((t) => (document.querySelector(".graphiql-response .view-lines")?.textContent ?? "").replace(/\s+/g, " ").includes(t), text, {
      timeout,
    })
    .catch(async () => fail(`${what}: the result pane never showed ${text}; it shows: ${await resultText(page)}`));
}

// setEditor replaces the content of one of GraphiQL's Monaco editors, as
// a user selecting all and pasting would (insertText: no auto-closing).
async function setEditor(page, editor, text) {
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
  const shown = await editor.evaluate((el) => (el.querySelector(".view-lines")?.textContent ?? "").replace(/\s+/g, ""));
  if (shown !== text.replace(/\s+/g, "")) fail(`the editor shows ${shown}, not ${text}`);
  // GraphiQL reads the operation (its name, its AST) 100 ms after the last
  // edit: a user does not click Run faster than that.
  await page.waitForTimeout(300);
}

// prettify formats the query as GraphiQL's Prettify button does (one
// field a line, for the screenshots).
async function prettify(page, editors) {
  await page.getByRole("button", { name: /^Prettify query/ }).click();
  for (const editor of editors) {
    await editor.click(); // and back to its start, scrolled left
    await page.keyboard.press("Control+Home");
  }
  await page.waitForTimeout(300);
}

const browser = await chromium.launch({ executablePath: env("CHROMIUM"), args: FLAGS, headless: true });
try {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 860 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  const origin = new URL(BASE).origin;
  const foreign = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (!["data:", "blob:"].includes(u.protocol) && u.origin !== origin && u.origin !== origin.replace(/^http/, "ws")) foreign.push(r.url());
  });
  const sockets = [];
  page.on("websocket", (ws) => {
    const sent = [];
    ws.on("framesent", (f) => sent.push(String(f.payload)));
    sockets.push({ url: ws.url(), sent });
  });

  step("open /graphql");
  const res = await page.goto(BASE + "/graphql");
  if (!res || res.status() !== 200) fail(`GET /graphql: ${res?.status()}`);
  const csp = res.headers()["content-security-policy"] ?? "";
  if (!csp.includes("script-src 'self';") || csp.includes("unpkg")) fail(`not the bundled page's policy: ${csp}`);
  const run = page.getByRole("button", { name: /^Execute query/ });
  await run.waitFor({ state: "visible", timeout: 20000 });
  const queryEditor = page.locator(".graphiql-query-editor");
  await queryEditor.locator(".view-lines").first().waitFor({ state: "visible", timeout: 20000 });
  step("the editor is up");

  step("run a products query");
  await setEditor(page, queryEditor, "query Products { products(first: 10) { items { name brand price { amount currency } } } }");
  await prettify(page, [queryEditor]);
  await run.click();
  await resultShows(page, "products", PRODUCT);
  await shot(page, "graphiql-products");

  step("subscribe to the order's status with the token in the Headers tab");
  await page.getByRole("button", { name: "Headers", exact: true }).click();
  const headersEditor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)").last();
  await setEditor(page, headersEditor, `{"Authorization": "Bearer ${TOKEN}"}`);
  await setEditor(page, queryEditor, `subscription { orderStatus(orderId: "${ORDER_ID}") { id status total { amount currency } } }`);
  await prettify(page, [headersEditor, queryEditor]);
  await run.click();
  await resultShows(page, "the order now", '"status": "PENDING_PAYMENT"');
  const ws = sockets.find((s) => s.url.endsWith("/graphql"));
  if (!ws) fail(`no WebSocket to /graphql; sockets: ${sockets.map((s) => s.url).join(", ")}`);
  const init = ws.sent.map((f) => JSON.parse(f)).find((m) => m.type === "connection_init");
  if (init?.payload?.Authorization !== `Bearer ${TOKEN}`) fail(`connection_init carried ${JSON.stringify(init)}`);

  step("pay the order over REST; the subscription shows it");
  // Record every status the pane shows: the order moves on from PAID by
  // itself (fulfillment starts), so the pane may not rest on it, or even
  // show it.
  await page.evaluate(() => {
    window.__statuses = [];
    const pane = document.querySelector(".graphiql-response");
    const seen = () => {
      const m = (pane?.textContent ?? "").replace(/\s+/g, " ").match(/"status": "([A-Z_]+)"/);
      if (m && window.__statuses.at(-1) !== m[1]) window.__statuses.push(m[1]);
    };
    new MutationObserver(seen).observe(pane, { subtree: true, childList: true, characterData: true });
    seen();
  });
  const paid = await fetch(BASE + "/api/v1/payments/test/confirm", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ intent_id: INTENT_ID, card_number: "4242424242424242" }),
  });
  if (paid.status !== 200) fail(`pay: ${paid.status} ${await paid.text()}`);
  // PAID, or a later status when fulfillment started before the
  // subscription re-read the order: either is the payment arriving live.
  await page
    .waitForFunction(() => window.__statuses.some((s) => ["PAID", "FULFILLING", "SHIPPED", "DELIVERED"].includes(s)), null, { timeout: 15000 })
    .catch(async () => {
      fail(`the payment never arrived; the pane showed ${await page.evaluate(() => window.__statuses.join(" → "))}: ${await resultText(page)}`);
    });
  step("statuses shown: " + (await page.evaluate(() => window.__statuses.join(" → "))));
  const stop = page.getByRole("button", { name: /^Stop query/ });
  if (!(await stop.isVisible())) fail("the subscription is no longer running");
  await shot(page, "graphiql-subscription");
  await stop.click();
  await run.waitFor({ state: "visible", timeout: 5000 });

  if (foreign.length) fail(`requests to other origins: ${foreign.join(", ")}`);
  const real = errors.filter((e) => !/Failed to load resource/.test(e));
  if (real.length) fail(`page errors: ${real.join(" | ")}`);
  step("done");
} finally {
  await browser.close();
}
