// Accessibility and phone layout on every page of both sides (issue 13, part 9).
// Signs in to the demo as staff and as a client user, discovers the pages by crawling same-origin
// links from the landing page (so pages added later are covered without listing them here), and on
// each page: axe-core (from npm) must find no serious or critical violation, and at 375 px the page
// must not scroll sideways. Takes the phone screenshots of portal Home and a staff page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { serverAndBrowser, signIn, DEMO_STAFF, DEMO_CLIENT, SCREENSHOTS } from "./harness.mjs";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** At most this many pages per side. */
const MAX_PAGES = 80;
/** At most this many pages of one route shape (`/staff/tasks/:id`), so a long list cannot eat the budget. */
const MAX_PER_SHAPE = 3;
/** The phone width of the sideways-scroll check. */
const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 900 };
/** A tablet, where the nav takes its own row: no sideways scroll either. */
const TABLET = { width: 768, height: 1024 };

const env = serverAndBrowser({ demo: true });

/** Links the crawl never follows: leaving the session, downloads, the API, static files. */
function skipped(url) {
  const p = url.pathname;
  return p.startsWith("/api/") || p.startsWith("/static/") || p === "/logout" || p.startsWith("/unsubscribe/") ||
    /download|\/raw$|\.(pdf|zip|csv|png|jpe?g|webp|gif|svg|ico)$/i.test(p) || url.searchParams.has("download");
}

/** `/staff/tasks/0193…` → `/staff/tasks/:id`; the query's keys are part of the shape. */
function shape(url) {
  const path = url.pathname.split("/").map((s) => (/^[0-9a-f-]{8,}$|^\d+$/i.test(s) ? ":id" : s)).join("/");
  return path + [...url.searchParams.keys()].sort().map((k) => `?${k}`).join("");
}

/** Same-origin links of the current page worth visiting. */
async function links(page, origin) {
  const hrefs = await page.$$eval("a[href]", (as) => as.filter((a) => !a.hasAttribute("download")).map((a) => a.href));
  const out = [];
  for (const h of hrefs) {
    const u = new URL(h);
    if (u.origin !== origin || !["http:", "https:"].includes(u.protocol) || skipped(u)) continue;
    u.hash = "";
    out.push(u);
  }
  return out;
}

/** Moderate and minor findings (not failures), counted per rule for the log. */
const minor = new Map();

/** Runs axe-core on the page; the serious and critical violations, readably. */
async function axeFailures(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(" ")} — ${n.failureSummary.replace(/\s+/g, " ")}`) }));
  });
  const failing = (v) => v.impact === "serious" || v.impact === "critical";
  for (const v of result.filter((x) => !failing(x))) if (process.env.A11Y_DEBUG) console.log(`# ${page.url()} ${v.impact} ${v.id} ${v.nodes.join(" | ")}`);
  for (const v of result.filter((x) => !failing(x))) minor.set(`${v.impact} ${v.id}`, (minor.get(`${v.impact} ${v.id}`) || 0) + 1);
  return result.filter(failing);
}

/** How far the page scrolls sideways at its current width (0 when it fits). */
async function overflow(page) {
  return page.evaluate(() => {
    const over = document.documentElement.scrollWidth - window.innerWidth;
    if (over <= 0) return { over, culprits: [] };
    const culprits = [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && getComputedStyle(e).position !== "fixed")
      .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${e.className ? "." + String(e.className).split(" ").join(".") : ""}`);
    return { over, culprits };
  });
}

/** The page's problems: axe at desktop and phone width, sideways scroll at tablet and phone width. */
async function check(page, here) {
  const problems = [];
  await page.setViewportSize(DESKTOP);
  for (const v of await axeFailures(page)) {
    problems.push(`${here}: axe ${v.impact} ${v.id} at ${DESKTOP.width}px (${v.help})\n      ${v.nodes.slice(0, 4).join("\n      ")}`);
  }
  await page.setViewportSize(TABLET);
  const t = await overflow(page);
  if (t.over > 0) problems.push(`${here}: scrolls sideways by ${t.over}px at ${TABLET.width}px (${t.culprits.join(", ")})`);
  await page.setViewportSize(PHONE);
  const o = await overflow(page);
  if (o.over > 0) problems.push(`${here}: scrolls sideways by ${o.over}px at ${PHONE.width}px (${o.culprits.join(", ")})`);
  for (const v of await axeFailures(page)) {
    problems.push(`${here}: axe ${v.impact} ${v.id} at ${PHONE.width}px (${v.help})\n      ${v.nodes.slice(0, 4).join("\n      ")}`);
  }
  return problems;
}

/**
 * Crawls one side from its landing page: every page is checked with axe at desktop width and
 * for sideways scroll at phone width. Returns the pages visited and the problems found.
 */
async function crawl(login) {
  minor.clear();
  const ctx = await env.browser.newContext({ viewport: DESKTOP, bypassCSP: true });
  const page = await ctx.newPage();
  await signIn(page, env.server.base, login);
  const origin = new URL(env.server.base).origin;
  const start = new URL(page.url());
  const queue = [start];
  const seen = new Set([start.href]);
  const perShape = new Map();
  const visited = [];
  const problems = [];
  while (queue.length && visited.length < MAX_PAGES) {
    const url = queue.shift();
    const s = shape(url);
    if ((perShape.get(s) || 0) >= MAX_PER_SHAPE) continue;
    perShape.set(s, (perShape.get(s) || 0) + 1);
    await page.setViewportSize(DESKTOP);
    const resp = await page.goto(url.href, { waitUntil: "networkidle" });
    const status = resp ? resp.status() : 0;
    visited.push(`${status} ${url.pathname}${url.search}`);
    if (status >= 400) { problems.push(`${url.pathname}${url.search}: HTTP ${status}`); continue; }
    if (new URL(page.url()).origin !== origin) continue;
    problems.push(...(await check(page, `${url.pathname}${url.search}`)));
    for (const next of await links(page, origin)) {
      if (!seen.has(next.href)) { seen.add(next.href); queue.push(next); }
    }
  }
  await ctx.close();
  return { visited, problems };
}

test("signed-out pages and an error page pass axe and fit 768 and 375 px", async () => {
  const ctx = await env.browser.newContext({ viewport: DESKTOP, bypassCSP: true });
  const page = await ctx.newPage();
  const problems = [];
  for (const path of ["/login", "/reset"]) {
    const resp = await page.goto(`${env.server.base}${path}`, { waitUntil: "networkidle" });
    assert.ok(resp.ok(), `${path}: ${resp.status()}`);
    problems.push(...(await check(page, path)));
  }
  await signIn(page, env.server.base, DEMO_CLIENT);
  const missing = await page.goto(`${env.server.base}/portal/projects/00000000-0000-0000-0000-000000000000`);
  assert.equal(missing.status(), 404);
  problems.push(...(await check(page, "a 404 page")));
  await ctx.close();
  assert.equal(problems.length, 0, `${problems.length} problems:\n${problems.join("\n")}`);
});

for (const [side, login, landing] of [["staff", DEMO_STAFF, /^\/staff/], ["client", DEMO_CLIENT, /^\/portal/]]) {
  test(`${side}: every page reachable from the landing page passes axe (no serious/critical) and fits 768 and 375 px`, async () => {
    const { visited, problems } = await crawl(login);
    console.log(`# ${side}: ${visited.length} pages checked\n#   ${visited.join("\n#   ")}`);
    console.log(`# ${side}: moderate/minor axe findings (rule: page checks): ${JSON.stringify(Object.fromEntries(minor))}`);
    assert.match(visited[0].split(" ")[1], landing);
    assert.ok(visited.length >= 10, `the crawl found too few pages (${visited.length}); is the nav there?`);
    assert.equal(problems.length, 0, `${problems.length} problems:\n${problems.join("\n")}`);
  });
}

test("phone screenshots: portal Home and a staff page; the nav menu opens at 375 px", async () => {
  for (const [login, path, file] of [[DEMO_CLIENT, "/portal", "a11y-portal-home-phone.png"], [DEMO_STAFF, "/staff/invoices", "a11y-staff-invoices-phone.png"]]) {
    const ctx = await env.browser.newContext({ viewport: PHONE });
    const page = await ctx.newPage();
    await signIn(page, env.server.base, login);
    await page.goto(`${env.server.base}${path}`, { waitUntil: "networkidle" });
    // The nav is a disclosure on phones: closed, its links are not shown; opened, they are.
    const menu = page.locator("details.menu > summary");
    assert.equal(await menu.isVisible(), true, "a menu button on phones");
    assert.equal(await page.locator(".mainnav a").first().isVisible(), false, "the nav is folded away until opened");
    await menu.click();
    assert.equal(await page.locator(".mainnav a").first().isVisible(), true, "the menu opens");
    const open = await overflow(page);
    assert.ok(open.over <= 0, `the open menu fits: ${JSON.stringify(open)}`);
    if (login === DEMO_STAFF) await page.screenshot({ path: join(SCREENSHOTS, "a11y-staff-menu-phone.png"), fullPage: false });
    await page.keyboard.press("Escape");
    assert.equal(await page.locator(".mainnav a").first().isVisible(), false, "Escape closes the menu");
    await page.screenshot({ path: join(SCREENSHOTS, file), fullPage: false });
    await ctx.close();
  }
});

/** The composer's visible state: the submit button's accessible name, whether it looks like a note. */
async function composer(page) {
  return page.evaluate(() => {
    const form = document.querySelector("form.composer");
    const flag = form.querySelector(".note-flag");
    return {
      button: form.querySelector("button").innerText.trim(),
      flag: !!flag && flag.offsetParent !== null && flag.innerText.trim(),
      background: getComputedStyle(form).backgroundColor,
      radios: form.querySelectorAll('input[name="visibility"]').length,
    };
  });
}

test("reply or note: the composer names its audience before sending, and a note looks like one", async () => {
  const staffCtx = await env.browser.newContext({ viewport: DESKTOP });
  const staff = await staffCtx.newPage();
  await signIn(staff, env.server.base, DEMO_STAFF);
  await staff.goto(`${env.server.base}/staff/clients`);
  await staff.getByRole("link", { name: "Acme Corporation" }).first().click();
  await staff.locator("main a.pcard").first().click();
  await staff.waitForURL(/\/staff\/projects\//);
  const projectUrl = staff.url();
  await staff.locator("main a.task-title").first().click();
  await staff.waitForURL(/\/staff\/tasks\//);
  const taskUrl = staff.url();

  const reply = await composer(staff);
  assert.equal(reply.button, "Send reply to Acme Corporation");
  assert.equal(reply.flag, false, "no internal label on a reply");
  assert.equal(await staff.getByRole("button", { name: "Send reply to Acme Corporation" }).count(), 1, "the accessible name says it too");
  await staff.check('input[name="visibility"][value="note"]');
  const note = await composer(staff);
  assert.equal(note.button, "Add internal note");
  assert.equal(note.flag, "Internal — the client never sees this");
  assert.notEqual(note.background, reply.background, "the note mode looks different");
  await staff.check('input[name="visibility"][value="reply"]');
  assert.equal((await composer(staff)).button, "Send reply to Acme Corporation", "switching back updates the button");
  await staff.check('input[name="visibility"][value="note"]');
  await staff.screenshot({ path: join(SCREENSHOTS, "a11y-staff-task-note-desktop.png"), fullPage: false });

  // The project's conversations: the staff-only channel looks and reads like a note.
  const projectId = projectUrl.split("/").pop();
  await staff.goto(`${env.server.base}/staff/projects/${projectId}/messages`);
  const toClient = await composer(staff);
  assert.equal(toClient.button, "Send to Acme Corporation");
  assert.equal(toClient.flag, false);
  await staff.goto(`${env.server.base}/staff/projects/${projectId}/messages?channel=staff`);
  const internal = await composer(staff);
  assert.equal(internal.button, "Add internal message");
  assert.equal(internal.flag, "Internal — the client never sees this");
  assert.notEqual(internal.background, toClient.background);
  await staffCtx.close();

  // A client user only ever gets a reply composer.
  const clientCtx = await env.browser.newContext({ viewport: DESKTOP });
  const client = await clientCtx.newPage();
  await signIn(client, env.server.base, DEMO_CLIENT);
  await client.goto(taskUrl.replace("/staff/", "/portal/"));
  const theirs = await composer(client);
  assert.deepEqual([theirs.button, theirs.flag, theirs.radios], ["Send reply", false, 0]);
  await client.goto(`${env.server.base}/portal/projects/${projectId}/messages`);
  const theirMessage = await composer(client);
  assert.deepEqual([theirMessage.button, theirMessage.flag, theirMessage.radios], ["Send message", false, 0]);
  await clientCtx.close();
});

test("keyboard: Tab reaches the nav on wide screens and every focused element shows an outline", async () => {
  const ctx = await env.browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  await signIn(page, env.server.base, DEMO_STAFF);
  for (const path of ["/staff/invoices", "/staff/clients"]) {
    await page.goto(`${env.server.base}${path}`, { waitUntil: "networkidle" });
    const seen = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      const f = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const st = getComputedStyle(el);
        return { what: `${el.tagName.toLowerCase()} ${(el.innerText || el.getAttribute("aria-label") || el.name || "").trim().slice(0, 30)}`, outline: st.outlineStyle !== "none" && parseFloat(st.outlineWidth) >= 2, nav: !!el.closest(".mainnav") };
      });
      if (!f) continue;
      seen.push(f);
      assert.ok(f.outline, `${path}: focus is visible on ${f.what}`);
    }
    assert.ok(seen.some((f) => f.nav), `${path}: Tab reaches the main nav (${seen.map((f) => f.what).join(", ")})`);
    if (path === "/staff/invoices") assert.ok(seen.some((f) => f.what.startsWith("div")), "the invoice table's scroll box is reachable");
  }
  await ctx.close();
});
