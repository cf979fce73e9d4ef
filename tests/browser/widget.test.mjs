// The embeddable widget and the example site (examples/site) in real
// headless Chromium (Debian's, driven by playwright-core), against the local
// server (target/debug/bootstrap: in-memory store, mail written to its log).
// The site is served from another loopback origin (127.0.0.2) under a strict
// Content-Security-Policy, with ALLOWED_ORIGINS set to it, as a deployment would.
// Screenshots land in target/browser/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SITE_DIR = path.join(ROOT, "examples/site");
const SHOTS = path.join(ROOT, "target/browser");
const BOOTSTRAP = process.env.BOOTSTRAP || path.join(ROOT, "target/debug/bootstrap");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const AXE_SOURCE = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
// The addresses the example site's files name (the README's quick start).
const SITE_AS_WRITTEN = "http://127.0.0.1:8000";
const API_AS_WRITTEN = "http://127.0.0.1:3000";
const GRAVATAR = "https://www.gravatar.com";
const TURNSTILE = "https://challenges.cloudflare.com";
const POST = "/2026/11/rust-on-lambda/";
const GERMAN_POST = "/2026/10/hallo-welt/";
const BUDGET_GZIP_BYTES = 8 * 1024;
// A hang fails its test instead of holding CI; each test takes a few seconds.
const TEST_TIMEOUT_MS = 90_000;

let api; // http://127.0.0.1:PORT
let site; // http://127.0.0.2:PORT
let server; // the bootstrap process
let serverLog = "";
let siteServer;
let browser;

/** A port nothing listens on right now. */
function freePort(host) {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitFor(what, probe, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const CSP = () =>
  [
    "default-src 'none'",
    `script-src ${api} ${TURNSTILE}`,
    `style-src 'self' ${api}`,
    `img-src 'self' ${GRAVATAR}`,
    `connect-src ${api}`,
    `form-action 'self' ${api}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

/** Serves examples/site as written, with its two addresses rewritten to the
 * ones this run uses, every page under a strict CSP. */
function serveSite(host, port) {
  const types = { ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8" };
  const s = createServer(async (req, res) => {
    let file = decodeURIComponent(new URL(req.url, site).pathname);
    if (file.endsWith("/")) file += "index.html";
    const full = path.join(SITE_DIR, path.normalize(file));
    if (!full.startsWith(SITE_DIR + path.sep)) return res.writeHead(403).end();
    try {
      const text = (await readFile(full, "utf8")).replaceAll(API_AS_WRITTEN, api).replaceAll(SITE_AS_WRITTEN, site);
      res.writeHead(200, {
        "content-type": types[path.extname(full)] || "application/octet-stream",
        "content-security-policy": CSP(),
        "cache-control": "no-store",
      });
      res.end(text);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((resolve) => s.listen(port, host, () => resolve(s)));
}

before(async () => {
  const apiPort = await freePort("127.0.0.1");
  const sitePort = await freePort("127.0.0.2");
  api = `http://127.0.0.1:${apiPort}`;
  site = `http://127.0.0.2:${sitePort}`;
  const env = { ...process.env, PORT: String(apiPort), ALLOWED_ORIGINS: site, STORE: "memory", RATE_LIMIT_PER_MINUTE: "10000" };
  for (const name of ["TABLE_NAME", "OWNER_EMAIL", "AWS_LAMBDA_RUNTIME_API", "PUBLIC_URL", "NO_COLOR"]) delete env[name];
  env.NO_COLOR = "1";
  server = spawn(BOOTSTRAP, [], { env, stdio: ["ignore", "pipe", "pipe"] });
  process.on("exit", () => server.kill());
  server.stdout.on("data", (d) => (serverLog += d));
  server.stderr.on("data", (d) => (serverLog += d));
  await waitFor("the server to listen", () => serverLog.includes("listening on"));
  siteServer = await serveSite("127.0.0.2", sitePort);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright gives every launch a fresh, temporary user-data-dir.
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  await mkdir(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  siteServer?.close();
  server?.kill();
});

/** A fresh browser profile state that records what the tests must check:
 * CSP violations, console errors, script errors, and every request's origin. */
async function newContext(options = {}) {
  const context = await browser.newContext({ colorScheme: "light", ...options });
  const seen = { csp: [], errors: [], requests: [] };
  context.seen = seen;
  await context.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`),
    ),
  );
  context.on("page", (page) => {
    page.on("console", (m) => {
      if (m.type() != "error") return;
      if (/Content.Security.Policy|CSP violation|Refused to/i.test(m.text())) seen.csp.push(m.text());
      // A 4xx a test asks for shows as "Failed to load resource"; anything else is a bug.
      else if (!/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) seen.errors.push(m.text());
    });
    page.on("pageerror", (e) => seen.errors.push(String(e)));
  });
  context.on("request", (r) => seen.requests.push(r.url()));
  // No network here: stand in for Gravatar, the one third party the widget may call.
  await context.route(`${GRAVATAR}/**`, (route) =>
    route.fulfill({
      contentType: "image/svg+xml",
      body: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8" fill="#7a9"/></svg>',
    }),
  );
  return context;
}

/** No CSP violation, no script error, no request to a third party. */
function assertClean(context, ...alsoAllowed) {
  assert.deepEqual(context.seen.csp, [], "CSP violations");
  assert.deepEqual(context.seen.errors, [], "console and script errors");
  const allowed = new Set([api, site, GRAVATAR, ...alsoAllowed]);
  const foreign = context.seen.requests.filter((u) => !allowed.has(new URL(u).origin));
  assert.deepEqual(foreign, [], "requests to other origins");
}

/** The approve links mailed (to the log) since `mark`, oldest first. */
function approveLinks(mark) {
  return [...serverLog.slice(mark).matchAll(/Approve: (http[\w\-.~%:/?=&]+)/g)].map((m) => m[1]);
}

/** Approves through the mailed link as the owner would: open it, press its button. */
async function approveInBrowser(context, link) {
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole("button", { name: "Approve" }).click();
  await page.getByRole("heading", { name: "Comment approved" }).waitFor();
  await page.close();
}

/** The same over plain HTTP, for seeding: GET the page, POST its form. */
async function approveOverHttp(link) {
  const html = await (await fetch(link)).text();
  const token = html.match(/name="token" value="([^"]+)"/)[1];
  const res = await fetch(new URL("/comment/moderate", api), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }),
  });
  assert.equal(res.status, 200);
}

/** axe-core: no serious or critical violation. Returns how many lesser ones. */
async function axe(page, label) {
  // axe injects a <style> of its own, which the page's CSP rightly refuses:
  // violations while axe runs are axe's, not the widget's.
  const seen = page.context().seen.csp;
  const before = seen.length;
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations
    .filter((v) => v.impact == "serious" || v.impact == "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  seen.length = before;
  assert.deepEqual(bad, [], `axe-core on ${label}`);
  return result.violations.length;
}

// caret "initial": hiding the caret would inject a style the page's CSP refuses.
const shot = (page, name, fullPage = true) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage, caret: "initial" });

test("embed.js and embed.css are served cacheable, revalidate with 304, and fit the gzip budget", { timeout: TEST_TIMEOUT_MS }, async () => {
  let total = 0;
  for (const [file, type] of [["embed.js", "text/javascript; charset=utf-8"], ["embed.css", "text/css; charset=utf-8"]]) {
    const res = await fetch(`${api}/${file}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), type);
    assert.match(res.headers.get("cache-control"), /^public, max-age=\d+/);
    const etag = res.headers.get("etag");
    assert.match(etag, /^"[0-9a-f]+"$/);
    const body = Buffer.from(await res.arrayBuffer());
    const gz = gzipSync(body, { level: 9 }).length;
    console.log(`${file}: ${body.length} bytes, ${gz} gzipped`);
    total += gz;

    const again = await fetch(`${api}/${file}`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get("etag"), etag);
    assert.equal((await again.arrayBuffer()).byteLength, 0);

    const head = await fetch(`${api}/${file}`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("etag"), etag);
    assert.equal(head.headers.get("content-type"), type);
  }
  console.log(`widget total: ${total} bytes gzipped (budget ${BUDGET_GZIP_BYTES})`);
  assert.ok(total <= BUDGET_GZIP_BYTES, `${total} > ${BUDGET_GZIP_BYTES}`);
});

test("a comment shows as pending, then approved and nested with its reply, hostile text inert", { timeout: TEST_TIMEOUT_MS }, async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(site + POST);
  const form = page.getByRole("form", { name: "Leave a comment" });
  await form.waitFor();
  await page.getByRole("status").filter({ hasText: "No comments yet." }).waitFor();

  // Client-side checks: errors beside their fields, focus on the first.
  await form.getByRole("button", { name: "Post comment" }).click();
  const name = form.getByLabel("Name");
  await assert.doesNotReject(name.and(page.locator("[aria-invalid=true]")).waitFor());
  assert.equal(await page.evaluate(() => document.activeElement.name), "name");
  assert.equal(await form.getByText("Please fill in this field.").count(), 2);
  await form.getByLabel("Website (optional)").fill("javascript:alert(1)");
  await form.getByRole("button", { name: "Post comment" }).click();
  await form.getByText("Enter a web address starting with http:// or https://.").waitFor();

  // A 400 from the server lands beside its field: the body is cut short in flight.
  const hostile = {
    name: '<img src=x onerror="window.pwned=1">',
    url: 'https://example.org/"><script>window.pwned=1</script>',
    body: '<script>window.pwned=1</script>\n<b>not bold</b> & "quoted"\n\n  indented',
  };
  await name.fill(hostile.name);
  await form.getByLabel("Email (optional, never shown)").fill("Ada@Example.org");
  await form.getByLabel("Website (optional)").fill(hostile.url);
  await form.getByLabel("Comment").fill(hostile.body);
  await page.route(`${api}/comment`, async (route) => {
    const data = route.request().postData().replace(/(name="body"\r\n\r\n)[^]*?(\r\n--)/, "$1x$2");
    await route.continue({ postData: data });
  }, { times: 1 });
  await form.getByRole("button", { name: "Post comment" }).click();
  await form.getByText("Too short: at least 2 characters.").waitFor();
  assert.equal(await form.getByLabel("Comment").getAttribute("aria-invalid"), "true");

  // Posted: pending, kept across a reload until it is approved.
  let mark = serverLog.length;
  await form.getByRole("button", { name: "Post comment" }).click();
  await page.getByRole("status").filter({ hasText: "Thank you! Your comment awaits moderation." }).waitFor();
  const pending = page.locator(".rac-list > .rac-pending");
  await pending.getByText("Awaiting moderation").waitFor();
  await shot(page, "post-pending-light");
  await page.reload();
  await pending.getByText("Awaiting moderation").waitFor();
  const id = (await pending.getAttribute("id")).replace("comment-", "");

  // Approved through the mailed link; the list was cached for a minute, yet
  // a fresh page shows the comment at once (the widget revalidates).
  await approveInBrowser(context, await waitFor("the approve link", () => approveLinks(mark)[0]));
  await page.reload();
  const comment = page.locator(`#comment-${id}`);
  await comment.locator(".rac-name").waitFor();
  assert.equal(await comment.getAttribute("class"), "rac-comment");
  assert.equal(await page.locator(".rac-pending").count(), 0);
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), `rust-aws:${POST}`), null);

  // Everything hostile stayed text.
  const link = comment.locator("a.rac-name");
  assert.equal(await link.textContent(), hostile.name);
  assert.equal(await link.getAttribute("href"), hostile.url);
  assert.equal(await link.getAttribute("rel"), "nofollow ugc noopener");
  assert.equal(await comment.locator(".rac-body").textContent(), hostile.body.trim());
  assert.equal(await comment.locator(".rac-body *").count(), 0);
  assert.equal(await page.locator("img[src=x], script:not([src])").count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  const time = comment.locator("time");
  assert.match(await time.getAttribute("datetime"), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.match(await comment.locator("img.rac-avatar").getAttribute("src"), /^https:\/\/www\.gravatar\.com\/avatar\/[0-9a-f]{64}\?/);
  assert.match(await page.locator("[data-rust-aws-count]").textContent(), /^1 comment$/);

  // A reply: the form moves under the comment, the reply nests there.
  await comment.getByRole("button", { name: `Reply to ${hostile.name}` }).click();
  assert.equal(await page.evaluate(() => document.activeElement.name), "body");
  await comment.getByText(`Replying to ${hostile.name}`).waitFor();
  await comment.getByRole("textbox", { name: "Name" }).fill("Bob");
  await comment.getByRole("textbox", { name: "Comment" }).fill("A reply, one level down.");
  mark = serverLog.length;
  await comment.getByRole("button", { name: "Post comment" }).click();
  await comment.locator(".rac-replies > .rac-pending").getByText("Awaiting moderation").waitFor();
  assert.equal(await comment.locator("form").count(), 0, "the form went back below the list");
  await approveInBrowser(context, await waitFor("the reply's approve link", () => approveLinks(mark)[0]));
  await page.reload();
  const reply = comment.locator(".rac-replies > .rac-comment");
  await reply.getByText("A reply, one level down.").waitFor();
  assert.equal(await reply.locator(".rac-reply").count(), 0, "replies get no reply button");
  assert.equal(await reply.locator("span.rac-name").textContent(), "Bob");
  assert.equal(await page.locator(".rac-list > .rac-comment").count(), 1);

  await shot(page, "post-light");
  console.log(`axe-core, post page, light: ${await axe(page, "the post page (light)")} minor/moderate violations`);
  await page.emulateMedia({ colorScheme: "dark" });
  await comment.getByRole("button", { name: `Reply to ${hostile.name}` }).click();
  await shot(page, "post-dark-replying");
  console.log(`axe-core, post page, dark: ${await axe(page, "the post page (dark)")} minor/moderate violations`);
  // Escape leaves the reply: the form goes back, focus returns to the button.
  await comment.getByRole("textbox", { name: "Comment" }).press("Escape");
  assert.equal(await comment.locator("form").count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement.className), "rac-reply");
  assertClean(context);
  await context.close();
});

test("load more pages past the first fifty, in German, after a failed first load", { timeout: TEST_TIMEOUT_MS }, async () => {
  // 55 approved comments, posted and approved over HTTP.
  for (let i = 1; i <= 55; i++) {
    const mark = serverLog.length;
    const res = await fetch(`${api}/comment`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ post: GERMAN_POST, name: `Leserin ${i}`, body: `Kommentar Nummer ${i}` }),
    });
    assert.equal(res.status, 201);
    await approveOverHttp(await waitFor("an approve link", () => approveLinks(mark)[0]));
  }
  const context = await newContext({ colorScheme: "dark" });
  const page = await context.newPage();
  // The first list request fails: the widget says so and offers to try again.
  await page.route((url) => url.pathname == "/comment" && url.origin == api, (route) =>
    route.fulfill({ status: 503, contentType: "application/json", headers: { "retry-after": "1" }, body: '{"error":"unavailable"}' }),
  { times: 1 });
  await page.goto(site + GERMAN_POST);
  await page.getByRole("status").filter({ hasText: "Die Kommentare konnten nicht geladen werden." }).waitFor();
  await page.getByRole("button", { name: "Erneut versuchen" }).click();
  context.seen.errors = context.seen.errors.filter((e) => !/status of 503/.test(e));
  const items = page.locator(".rac-list > .rac-comment");
  await items.nth(49).waitFor();
  assert.equal(await items.count(), 50);
  assert.equal(await items.first().locator(".rac-body").textContent(), "Kommentar Nummer 1");
  assert.equal(await page.locator("[data-rust-aws-count]").textContent(), "55 Kommentare");
  const more = page.getByRole("button", { name: "Weitere Kommentare laden" });
  await more.click();
  await items.nth(54).waitFor();
  assert.equal(await items.count(), 55);
  assert.equal(await items.last().locator(".rac-body").textContent(), "Kommentar Nummer 55");
  assert.ok(await more.isHidden(), "no more pages, no button");
  assert.equal(await page.evaluate(() => document.activeElement.textContent.includes("Kommentar Nummer 51")), true);
  assert.ok(await page.getByRole("form", { name: "Kommentar schreiben" }).isVisible());
  await page.getByRole("form", { name: "Kommentar schreiben" }).getByRole("textbox", { name: "Name" }).focus();
  await shot(page, "german-dark", false);
  console.log(`axe-core, German page, dark: ${await axe(page, "the German page (dark)")} minor/moderate violations`);
  assertClean(context);
  await context.close();
});

test("a link to a comment scrolls to it once rendered, past the first page; the feed link", { timeout: TEST_TIMEOUT_MS }, async () => {
  // The German post's 55 comments (the test before): the newest is on the second page.
  const list = await (await fetch(`${api}/comment?post=${encodeURIComponent(GERMAN_POST)}&limit=100`)).json();
  const newest = list.comments.at(-1);
  assert.equal(newest.body, "Kommentar Nummer 55");
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(`${site}${GERMAN_POST}#comment-${newest.id}`);
  const target = page.locator(`#comment-${newest.id}`);
  await target.waitFor();
  await waitFor("the comment to be focused", () => page.evaluate(() => document.activeElement.id).then((id) => id == `comment-${newest.id}`));
  assert.ok(await target.evaluate((n) => { const r = n.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }), "scrolled into view");

  const feed = page.locator(".rac-feed");
  assert.equal(await feed.textContent(), "Kommentar-Feed (Atom)");
  const href = await feed.getAttribute("href");
  assert.equal(href, `${api}/comment/feed?post=${encodeURIComponent(GERMAN_POST)}`);
  const res = await fetch(href);
  assert.equal(res.headers.get("content-type"), "application/atom+xml; charset=utf-8");
  assert.match(await res.text(), /<content type="text">Kommentar Nummer 55<\/content>/);
  // data-feed="off" hides it.
  const hidden = await page.evaluate(async () => {
    const box = Object.assign(document.createElement("div"), { className: "x" });
    box.dataset.rustAwsComments = "";
    box.dataset.post = "/no-feed/";
    box.dataset.feed = "off";
    document.body.append(box);
    window.rustAws.init();
    return box.querySelector(".rac-feed") == null && box.querySelector(".rac-list") != null;
  });
  assert.ok(hidden, "no feed link with data-feed=off");
  assertClean(context);
  await context.close();
});

test("the index page shows each post's count", { timeout: TEST_TIMEOUT_MS }, async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(site + "/");
  const counts = page.locator("[data-rust-aws-count]");
  await page.getByText("55 comments").waitFor();
  // The first post has a comment and its reply.
  assert.deepEqual(await counts.allTextContents(), ["2 comments", "55 comments"]);
  await shot(page, "index-light");
  console.log(`axe-core, index page: ${await axe(page, "the index page")} minor/moderate violations`);
  assertClean(context);
  await context.close();
});

test("the contact form shows errors inline, then thanks the visitor", { timeout: TEST_TIMEOUT_MS }, async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(site + "/contact/");
  const form = page.locator("form[data-rust-aws-contact]");
  await page.waitForFunction(() => document.querySelector("form[data-rust-aws-contact]").noValidate);
  await form.getByRole("button", { name: "Send" }).click();
  assert.equal(await form.locator("[aria-invalid=true]").count(), 3);
  assert.equal(await page.evaluate(() => document.activeElement.id), "name");
  const emailError = await form.getByLabel("Email").getAttribute("aria-describedby");
  assert.equal(await page.locator(`#${emailError}`).textContent(), "Please fill in this field.");
  await form.getByLabel("Name").fill("Ada");
  await form.getByLabel("Email").fill("not an address");
  await form.getByLabel("Message").fill("Hello from the widget test.");
  await form.getByRole("button", { name: "Send" }).click();
  await form.getByText("Enter a valid email address.").waitFor();
  assert.equal(await form.locator("[aria-invalid=true]").count(), 1);
  await shot(page, "contact-errors-light");
  console.log(`axe-core, contact page with errors: ${await axe(page, "the contact page")} minor/moderate violations`);

  const mark = serverLog.length;
  await form.getByLabel("Email").fill("ada@example.org");
  await form.getByRole("button", { name: "Send" }).click();
  await page.getByRole("status").filter({ hasText: "Thank you! Your message has been sent." }).waitFor();
  assert.equal(await form.getByLabel("Message").inputValue(), "", "the form is reset");
  assert.equal(await form.locator("[aria-invalid=true]").count(), 0);
  await waitFor("the contact mail in the log", () => serverLog.slice(mark).includes("Hello from the widget test."));
  await page.emulateMedia({ colorScheme: "dark" });
  await shot(page, "contact-sent-dark");
  assertClean(context);
  await context.close();
});

test("without JavaScript the forms post and come back by 303", { timeout: TEST_TIMEOUT_MS }, async () => {
  const context = await newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const statuses = [];
  page.on("response", (r) => r.request().method() == "POST" && statuses.push(r.status()));

  await page.goto(site + POST);
  let mark = serverLog.length;
  await page.getByLabel("Name").fill("No Script");
  await page.getByRole("textbox", { name: "Comment" }).fill("Posted by a plain form.");
  await Promise.all([page.waitForURL(site + POST), page.getByRole("button", { name: "Post comment" }).click()]);
  await waitFor("the moderation mail", () => approveLinks(mark).length == 1);
  await shot(page, "post-no-javascript");

  await page.goto(site + "/contact/");
  mark = serverLog.length;
  await page.getByLabel("Name").fill("No Script");
  await page.getByLabel("Email").fill("noscript@example.org");
  await page.getByLabel("Message").fill("Sent by a plain form.");
  await Promise.all([page.waitForURL(site + "/contact/thanks/"), page.getByRole("button", { name: "Send" }).click()]);
  await page.getByRole("heading", { name: "Thank you" }).waitFor();
  await waitFor("the contact mail in the log", () => serverLog.slice(mark).includes("Sent by a plain form."));
  assert.deepEqual(statuses, [303, 303]);
  assertClean(context);
  await context.close();
});

test("with a captcha site key the provider's widget is rendered and its token posted", { timeout: TEST_TIMEOUT_MS }, async () => {
  const context = await newContext();
  // A stand-in for Turnstile's api.js with the calls the widget makes.
  await context.route(`${TURNSTILE}/**`, (route) =>
    route.fulfill({
      contentType: "text/javascript",
      body: `window.turnstile = {
        render(box, options) {
          const input = document.createElement("input");
          input.type = "hidden"; input.name = "cf-turnstile-response"; input.value = "token-" + options.sitekey;
          box.append(input);
          return "widget-1";
        },
        reset(id) { window.captchaResets = (window.captchaResets || []).concat(id); },
      };
      window[new URL(document.currentScript.src).searchParams.get("onload")]();`,
    }),
  );
  // The owner's markup gains the site key as the parser creates the form.
  // (Rewriting the response in the test instead would make Chromium treat
  // the page as public and refuse its loopback API.)
  await context.addInitScript(() =>
    new MutationObserver((_, observer) => {
      const form = document.querySelector("form[data-rust-aws-contact]");
      if (form) form.dataset.captchaSitekey = "site-key-1", observer.disconnect();
    }).observe(document, { childList: true, subtree: true }),
  );
  const page = await context.newPage();
  await page.goto(site + "/contact/");
  await page.locator(".rac-captcha input[name=cf-turnstile-response]").waitFor({ state: "attached" });
  const loaded = context.seen.requests.find((u) => u.startsWith(TURNSTILE));
  assert.equal(loaded, `${TURNSTILE}/turnstile/v0/api.js?render=explicit&onload=rustAwsCaptchaReady`);
  await page.getByLabel("Name").fill("Ada");
  await page.getByLabel("Email").fill("ada@example.org");
  await page.getByLabel("Message").fill("With a captcha.");
  const posted = page.waitForRequest((r) => r.method() == "POST");
  await page.getByRole("button", { name: "Send" }).click();
  assert.match((await posted).postData(), /name="cf-turnstile-response"\r\n\r\ntoken-site-key-1\r\n/);
  await page.getByRole("status").filter({ hasText: "Thank you!" }).waitFor();
  assert.deepEqual(await page.evaluate(() => window.captchaResets), ["widget-1"], "tokens are single-use: reset after each post");
  assertClean(context, TURNSTILE);
  await context.close();
});
