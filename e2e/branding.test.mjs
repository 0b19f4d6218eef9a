// Branding and pages per client (issue 13): the owner sets a logo and an accent colour and sees
// them on the sign-in page, in the client's portal and in a mail; then hides Files for the
// client, whose nav loses "Files" and whose Files URLs answer 404.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { writeFileSync } from "node:fs";
import { serverAndBrowser, SCREENSHOTS, DEMO_STAFF, DEMO_CLIENT, signIn } from "./harness.mjs";

const env = serverAndBrowser({ demo: true });
const pages = [];

/** A 48×48 violet PNG, made for this test. */
const LOGO = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAADAAAAAwCAIAAADYYG7QAAAAOklEQVR42u3OQQ0AAAgEoItjOQPbxhbOBxsBSNe8EiEhISEhISEhISEhISEhISEhISEhISEhISGhOwtfQN61aB/oywAAAABJRU5ErkJggg==",
  "base64",
);
const ACCENT = "#6d28d9";

test("a logo and colour show on the sign-in page, the portal and mail; hiding Files removes it", async () => {
  try {
    await journey();
  } catch (e) {
    for (const [i, p] of pages.entries()) {
      await p.screenshot({ path: join(tmpdir(), `atrium-branding-failure-${i}.png`), fullPage: true }).catch(() => {});
      console.error(`--- page ${i}: ${p.url()}\n${(await p.textContent("body").catch(() => "")).slice(0, 1500)}`);
    }
    console.error(env.server.log().slice(-3000));
    throw e;
  }
});

async function journey() {
  const { server, browser } = env;
  const staff = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  pages.push(staff);
  await signIn(staff, server.base, DEMO_STAFF);

  // The owner brands the portal.
  await staff.goto(`${server.base}/staff/settings/branding`);
  await staff.fill('input[name="accent_color"]', "#fde68a");
  await staff.click('form[action="/staff/settings/branding"] button:has-text("Save")');
  assert.match(await staff.textContent("body"), /accent/i, "a pale accent is refused, naming the field");
  await staff.fill('input[name="accent_color"]', ACCENT);
  await staff.click('form[action="/staff/settings/branding"] button:has-text("Save")');
  await staff.waitForLoadState("networkidle");
  const logoFile = join(tmpdir(), `atrium-e2e-logo-${process.pid}.png`);
  writeFileSync(logoFile, LOGO);
  await staff.setInputFiles('input[name="file"]', logoFile);
  await staff.click('button:has-text("Upload")');
  await staff.waitForLoadState("networkidle");
  assert.ok(await staff.locator('img[alt="Current logo"]').count(), "the logo is stored");

  // The sign-in page shows the logo (pages read the branding within a few seconds).
  const visitor = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  pages.push(visitor);
  let logoShown = false;
  for (let i = 0; i < 20 && !logoShown; i++) {
    await visitor.goto(`${server.base}/login`);
    logoShown = (await visitor.locator('img[src*="logo"]').count()) > 0;
    if (!logoShown) await visitor.waitForTimeout(500);
  }
  assert.ok(logoShown, "the sign-in page shows the logo");
  const logo = await visitor.request.get(`${server.base}/api/v1/branding/logo`);
  assert.equal(logo.status(), 200);
  assert.equal(logo.headers()["content-type"], "image/png");

  // The client's portal: the accent's stylesheet, the logo in the header; a phone screenshot.
  await signIn(visitor, server.base, DEMO_CLIENT);
  const css = await visitor.locator('link[href^="/branding.css"]').getAttribute("href");
  const sheet = await (await visitor.request.get(`${server.base}${css}`)).text();
  assert.ok(sheet.includes(`--accent:${ACCENT}`), sheet);
  assert.ok(await visitor.locator("header img").count(), "the header shows the logo");
  await visitor.screenshot({ path: join(SCREENSHOTS, "branded-portal-phone.png"), fullPage: false });
  const desk = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  pages.push(desk);
  await signIn(desk, server.base, DEMO_CLIENT);
  await desk.screenshot({ path: join(SCREENSHOTS, "branded-portal-desktop.png"), fullPage: false });

  // A mail: from the agency's name, with the logo and the accent in its HTML part.
  await visitor.context().clearCookies();
  await visitor.goto(`${server.base}/login`);
  await visitor.fill('form[action="/login/link"] input[name="email"]', DEMO_CLIENT.email);
  await visitor.click('button:has-text("Email me a link")');
  await visitor.waitForLoadState("networkidle");
  let mail = "";
  for (let i = 0; i < 50 && !mail.includes("/magic/"); i++) {
    try { mail = server.mailTo(DEMO_CLIENT.email); } catch { /* not yet */ }
    if (!mail.includes("/magic/")) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(mail, /From: "?Northwind Studio"? </, "sent in the agency's name");
  assert.ok(mail.includes(ACCENT), "the accent colours the mail");
  assert.match(mail, /\/api\/v1\/branding\/logo/, "the mail shows the logo");

  // Staff hide Files for Acme: the nav loses it and its URLs are 404 for Acme's users.
  await staff.goto(`${server.base}/staff/clients`);
  await staff.click('a:has-text("Acme")');
  await staff.waitForLoadState("networkidle");
  await staff.uncheck('#portal input[name="files"]');
  await staff.click('#portal button:has-text("Save portal")');
  await staff.waitForLoadState("networkidle");
  assert.equal(await staff.locator('#portal input[name="files"]').isChecked(), false);

  await desk.goto(`${server.base}/portal`);
  assert.equal(await desk.locator('nav a:has-text("Files")').count(), 0, "no Files in the nav");
  const files = await desk.request.get(`${server.base}/portal/files`);
  assert.equal(files.status(), 404);
  const project = await desk.goto(`${server.base}/portal/projects`).then(() => desk.locator("a.pcard").first().getAttribute("href"));
  const projectFiles = await desk.request.get(`${server.base}${project}/files`);
  assert.equal(projectFiles.status(), 404, "a project's Files tab is 404 too");
  // Staff keep it.
  const staffFiles = await staff.request.get(`${server.base}/staff/clients`);
  assert.equal(staffFiles.status(), 200);
}
