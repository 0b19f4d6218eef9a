// `atrium demo` through the real binary: the printed logins work, the client sees a living
// portal with only its own projects, staff see work in "My work". Takes the README screenshots.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, launch, SCREENSHOTS } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The logins `atrium demo` printed. */
function printedLogins() {
  const staff = server.demoOutput.match(/Staff login:\s+(\S+) \/ (\S+)/);
  const client = server.demoOutput.match(/Client login:\s+(\S+) \/ (\S+)/);
  assert.ok(staff && client, `demo printed logins:\n${server.demoOutput}`);
  return { staff: { email: staff[1], password: staff[2] }, client: { email: client[1], password: client[2] } };
}

async function signIn(page, { email, password }) {
  await page.goto(`${server.base}/login`);
  await page.fill('input[name="email"] >> nth=0', email);
  await page.fill('input[name="password"]', password);
  await page.click('button:has-text("Sign in")');
  await page.waitForLoadState("networkidle");
}

test("the demo's client login shows a living portal with only its own projects", async () => {
  const { client } = printedLogins();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, client);
  assert.match(new URL(page.url()).pathname, /^\/portal/);
  const home = await page.textContent("main");
  assert.match(home, /Good (morning|afternoon|evening), Dana/);
  assert.match(home, /Waiting for you/);
  assert.ok((await page.locator("text=Mark done").count()) >= 3, "open tasks assigned to the client");
  assert.doesNotMatch(home, /Internal:|Budget check|Note to self/, "no internal note reaches the client");
  await page.screenshot({ path: join(SCREENSHOTS, "demo-portal-home-desktop.png"), fullPage: false });

  await page.goto(`${server.base}/portal/projects`);
  const cards = await page.locator("a.pcard").count();
  assert.equal(cards, 3, "Acme owns two of the demo's eight generated projects and its retainer");
  assert.doesNotMatch(await page.textContent("main"), /Globex|Initech|Umbrella/);

  // The help desk has the client's requests and the agency's replies, never its notes.
  await page.goto(`${server.base}/portal/helpdesk?status=all`);
  const desk = await page.textContent("main");
  assert.match(desk, /second calendar/);
  assert.match(desk, /contact form/);
  await page.getByRole("link", { name: /second calendar/ }).first().click();
  await page.waitForURL(/\/portal\/helpdesk\/[0-9a-f-]{36}$/);
  assert.match(await page.textContent("main"), /booking widget supports several calendars/);
  assert.doesNotMatch(await page.textContent("main"), /API key from their office manager/, "no internal note");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.base}/portal`);
  await page.screenshot({ path: join(SCREENSHOTS, "demo-portal-home-phone.png"), fullPage: false });
  await page.close();
});

test("the demo's staff login has work across clients", async () => {
  const { staff } = printedLogins();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, staff);
  assert.match(new URL(page.url()).pathname, /^\/staff/);
  const work = await page.textContent("main");
  assert.doesNotMatch(work, /Nothing assigned to you/);
  assert.match(work, /Overdue/);
  await page.screenshot({ path: join(SCREENSHOTS, "demo-staff-my-work-desktop.png"), fullPage: false });
  await page.goto(`${server.base}/staff/clients`);
  for (const name of ["Acme Corporation", "Globex Retail", "Initech Health", "Umbrella Foods"]) {
    assert.match(await page.textContent("main"), new RegExp(name));
  }
  // The Inbox: a request nobody has taken yet, and the satisfaction score of the rated one.
  await page.goto(`${server.base}/staff/inbox?view=unassigned`);
  assert.match(await page.textContent("main"), /Access for our new marketing manager/);
  assert.match(await page.textContent("main"), /1 good, 0 bad/);
  await page.close();
});
