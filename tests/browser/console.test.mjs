// The owner's console (/admin) in real headless Chromium (Debian's, driven by
// playwright-core), against the local server (target/debug/bootstrap:
// in-memory store, mail written to its log), as the README's quick start
// runs it: http://127.0.0.1:PORT, no AWS, the sign-in link read from the log.
// A second loopback origin (127.0.0.2) plays the hostile site.
// Screenshots land in target/browser/ (SHOTS_DIR overrides).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SHOTS = process.env.SHOTS_DIR || path.join(ROOT, "target/browser");
const BOOTSTRAP = process.env.BOOTSTRAP || path.join(ROOT, "target/debug/bootstrap");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const AXE_SOURCE = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const TEST_TIMEOUT_MS = 90_000;
const POST = "/2026/11/console/";
const HOSTILE = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;

let api; // http://127.0.0.1:PORT
let evil; // http://127.0.0.2:PORT
let server;
let serverLog = "";
let evilServer;
let browser;

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

/** The hostile site: a page whose form posts a decision to the console. */
let evilForm = "";
function serveEvil(host, port) {
  const s = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(evilForm);
  });
  return new Promise((resolve) => s.listen(port, host, () => resolve(s)));
}

before(async () => {
  const apiPort = await freePort("127.0.0.1");
  const evilPort = await freePort("127.0.0.2");
  api = `http://127.0.0.1:${apiPort}`;
  evil = `http://127.0.0.2:${evilPort}`;
  // ALLOWED_ORIGINS names the hostile origin on purpose: a site allowed to
  // post comments is still not the console's own origin.
  const env = { ...process.env, PORT: String(apiPort), ALLOWED_ORIGINS: evil, STORE: "memory", RATE_LIMIT_PER_MINUTE: "10000", SITE_NAME: "Ada's notes", SITE_URL: "https://ada.example.org" };
  for (const name of ["TABLE_NAME", "OWNER_EMAIL", "AWS_LAMBDA_RUNTIME_API", "PUBLIC_URL"]) delete env[name];
  env.NO_COLOR = "1";
  server = spawn(BOOTSTRAP, [], { env, stdio: ["ignore", "pipe", "pipe"] });
  process.on("exit", () => server.kill());
  server.stdout.on("data", (d) => (serverLog += d));
  server.stderr.on("data", (d) => (serverLog += d));
  await waitFor("the server to listen", () => serverLog.includes("listening on"));
  evilServer = await serveEvil("127.0.0.2", evilPort);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  await mkdir(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  evilServer?.close();
  server?.kill();
});

/** A context that records CSP reports and script errors. */
async function newContext(options = {}) {
  const context = await browser.newContext({ colorScheme: "light", ...options });
  context.seen = { csp: [], errors: [] };
  context.on("page", (page) => {
    page.on("console", (m) => {
      if (m.type() != "error") return;
      if (/Content.Security.Policy|Refused to/i.test(m.text())) context.seen.csp.push(m.text());
      else if (!/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) context.seen.errors.push(m.text());
    });
    page.on("pageerror", (e) => context.seen.errors.push(String(e)));
  });
  return context;
}

async function comment(name, body, extra = {}, post = POST) {
  const res = await fetch(`${api}/comment`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ post, name, email: `${name.toLowerCase()}@example.org`, url: `https://${name.toLowerCase()}.example.net`, body, ...extra }),
  });
  assert.equal(res.status, 201);
  return (await res.json()).id;
}

async function publicList(post = POST) {
  return (await (await fetch(`${api}/comment?post=${encodeURIComponent(post)}`)).json()).comments;
}

async function publicCount(post = POST) {
  return (await (await fetch(`${api}/comment/count?post=${encodeURIComponent(post)}`)).json()).counts[post];
}

/** The sign-in link the log shows since `mark`. */
function signInLink(mark) {
  return serverLog.slice(mark).match(/http:\/\/127\.0\.0\.1:\d+\/admin\/sign-in\?token=[\w\-.]+/)?.[0];
}

/** Signs in as the owner would: the button, the link from the log, its button. */
async function signIn(page) {
  await page.goto(`${api}/admin`);
  const mark = serverLog.length;
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("status").filter({ hasText: "sign-in link is on its way" }).waitFor();
  const link = await waitFor("the sign-in link in the log", () => signInLink(mark));
  await page.goto(link);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: /^Queue/ }).waitFor();
}

/** The item of the comment whose body contains `text`. */
const item = (page, text) => page.locator("li.item").filter({ hasText: text });

async function axe(page, label) {
  // axe adds a <style> of its own, which the console's CSP rightly refuses.
  const seen = page.context().seen.csp;
  const before = seen.length;
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  seen.length = before;
  assert.deepEqual(bad, [], `axe-core on ${label}`);
}

const shot = (page, name, fullPage = true) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage, caret: "initial" });

test("without JavaScript: sign in from the logged link, approve, reject, bulk-delete; the public list agrees; hostile text stays text", { timeout: TEST_TIMEOUT_MS }, async () => {
  await comment("Grace", "Lovely post — the cold-start numbers match mine.");
  await comment("Linus", "Second! Though I would have used a bigger Lambda.");
  await comment("Mallory", HOSTILE);
  await comment("Spammer", "Cheap watches at example.com");

  const context = await newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const served = await page.goto(`${api}/admin`);
  const csp = served.headers()["content-security-policy"];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|script-src/);
  assert.equal(served.headers()["cache-control"], "no-store");
  assert.equal(served.headers()["referrer-policy"], "no-referrer");

  await signIn(page);
  const [cookie] = (await context.cookies(api)).filter((c) => c.name == "__Host-rust-aws");
  assert.ok(cookie, "Chromium keeps the __Host- Secure cookie on http://127.0.0.1 (a secure context)");
  assert.deepEqual([cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path], [true, true, "Strict", "/"]);

  // The hostile body is shown as its text; no element of it exists.
  await item(page, "onerror").waitFor();
  assert.equal(await item(page, "onerror").locator("p.body").textContent(), HOSTILE);
  assert.equal(await page.locator("main img, main script").count(), 0);
  assert.notEqual(await page.title(), "pwned");

  await item(page, "Lovely post").getByRole("button", { name: "Approve" }).click();
  await page.getByRole("status").filter({ hasText: "1 comment approved." }).waitFor();
  await item(page, "Cheap watches").getByRole("button", { name: "Reject" }).click();
  await page.getByRole("status").filter({ hasText: "1 comment rejected." }).waitFor();
  await item(page, "Second!").getByRole("checkbox").check();
  await item(page, "onerror").getByRole("checkbox").check();
  await page.getByRole("button", { name: "Delete selected" }).click();
  await page.getByRole("status").filter({ hasText: "2 comments deleted." }).waitFor();
  await page.getByText("Nothing waits for you.").waitFor();

  const list = await publicList();
  assert.deepEqual(list.map((c) => c.name), ["Grace"]);
  assert.equal(await publicCount(), 1);
  await page.getByRole("link", { name: "Published" }).click();
  await item(page, "Lovely post").waitFor();
  assert.equal(await page.locator("li.item").count(), 1);
  assert.deepEqual(context.seen.csp, [], "CSP violations");
  await context.close();
});

test("a cross-site form post and a post without the CSRF token change nothing", { timeout: TEST_TIMEOUT_MS }, async () => {
  const post = "/2026/11/eve/";
  const id = await comment("Eve", "Approve me from elsewhere, please.", {}, post);
  const context = await newContext();
  const page = await context.newPage();
  await signIn(page);
  const csrf = await page.locator("input[name=csrf]").first().inputValue();

  // The hostile site posts the console's own form, with the real token even.
  evilForm = `<!doctype html><title>Win a prize</title><form method="post" action="${api}/admin/decide">
    <input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="one" value="approve:${id}">
    <button>Claim your prize</button></form>`;
  const other = await context.newPage();
  await other.goto(evil);
  const [answer] = await Promise.all([other.waitForResponse(`${api}/admin/decide`), other.getByRole("button", { name: "Claim your prize" }).click()]);
  assert.equal(answer.status(), 403);
  assert.match(await answer.text(), /did not come from the console&#39;s own pages/);
  await other.close();

  // The console's own form, session and origin, its token taken out in flight.
  await page.route(`${api}/admin/decide`, (route) =>
    route.continue({ postData: route.request().postData().replace(/(^|&)csrf=[^&]*/, "") }),
  );
  const [refused] = await Promise.all([
    page.waitForResponse(`${api}/admin/decide`),
    item(page, "Approve me from elsewhere").getByRole("button", { name: "Approve" }).click(),
  ]);
  assert.equal(refused.status(), 403);
  assert.match(await refused.text(), /out of date or did not come from the console/, "refused for the token, the session being there");
  await page.unroute(`${api}/admin/decide`);
  await page.goto(`${api}/admin`);

  await page.reload();
  await item(page, "Approve me from elsewhere").waitFor();
  assert.equal(await publicCount(post), 0);
  assert.deepEqual(await publicList(post), []);

  // Nor can the console be framed.
  evilForm = `<!doctype html><title>Frame</title><iframe src="${api}/admin" title="console"></iframe>`;
  const framer = await context.newPage();
  await framer.goto(evil);
  await waitFor("Chromium to refuse the frame", () => context.seen.csp.some((m) => /frame-ancestors 'none'/.test(m)));
  await framer.close();
  await context.close();
});

test("keyboard reaches every action, axe-core finds nothing, light and dark, phone", { timeout: TEST_TIMEOUT_MS }, async () => {
  for (const [name, body] of [["Ada", "A reply-worthy thought about arm64 builds.\nSecond line."], ["Bob", "Does this work with CloudFront in front?"]]) await comment(name, body);
  const context = await newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${api}/admin`);
  await axe(page, "the sign-in page");
  await shot(page, "console-sign-in");
  await signIn(page);
  // One sign-in for the rest (links are 5 an hour): the same session.
  const storageState = await context.storageState();

  // Tab through the page: every link, button and checkbox is reached.
  const focusable = () => [...new Set([...document.querySelectorAll("a[href], button, input:not([type=hidden])")].map((e) => e.outerHTML.slice(0, 200)))];
  const wanted = (await page.evaluate(focusable)).length;
  const reached = new Set();
  for (let i = 0; i < wanted + 5; i++) {
    await page.keyboard.press("Tab");
    const key = await page.evaluate(() => {
      const e = document.activeElement;
      return e == document.body ? null : e.outerHTML.slice(0, 200);
    });
    if (key) reached.add(key);
  }
  const missed = (await page.evaluate(focusable)).filter((k) => !reached.has(k));
  assert.deepEqual(missed, [], "every action takes the focus");
  assert.equal(reached.size, wanted);
  // And the keyboard decides: focus a comment's Approve, press Enter.
  await item(page, "CloudFront").getByRole("button", { name: "Approve" }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("status").filter({ hasText: "1 comment approved." }).waitFor();
  await context.close();
  // A reply, for the pictures: the queue names what it replies to.
  const bob = (await publicList()).find((c) => c.name == "Bob");
  await comment("Carol", "Yes: set TRUSTED_PROXY_HOPS=1 and the origin header.", { parent: bob.id });

  for (const scheme of ["dark", "light"]) {
    const c = await newContext({ colorScheme: scheme, viewport: { width: 1100, height: 800 }, storageState });
    const p = await c.newPage();
    await p.goto(`${api}/admin`);
    await axe(p, `the queue (${scheme})`);
    await shot(p, `console-queue-${scheme}`);
    await p.getByRole("link", { name: "Published" }).click();
    await axe(p, `published (${scheme})`);
    await shot(p, `console-published-${scheme}`);
    await p.getByRole("link", { name: "Outbox" }).click();
    await axe(p, `outbox (${scheme})`);
    await shot(p, `console-outbox-${scheme}`);
    assert.deepEqual(c.seen.csp, [], "CSP violations");
    await c.close();
  }

  const phone = await newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: "dark", storageState });
  const p = await phone.newPage();
  await p.goto(`${api}/admin`);
  await axe(p, "the queue on a phone");
  await shot(p, "console-queue-phone");
  await phone.close();
});
