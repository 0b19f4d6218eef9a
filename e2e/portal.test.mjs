// The main journey (issue "Foundation"): owner creates a client, project and tasks, invites a
// client user; the user accepts, signs in, sees only that project, completes a task assigned to
// them and replies; staff sees the reply; a staff note never appears for the client.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startServer, launch, SCREENSHOTS } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(page, email, password) {
  await page.goto(`${server.base}/login`);
  await page.fill('input[name="email"] >> nth=0', email);
  await page.fill('input[name="password"]', password);
  await page.click('button:has-text("Sign in")');
}

test("owner → client → invitation → client completes and replies → staff sees it; notes stay internal", async () => {
  try {
    await journey();
  } catch (e) {
    for (const [i, p] of pages.entries()) {
      await p.screenshot({ path: join(tmpdir(), `atrium-e2e-failure-${i}.png`), fullPage: true }).catch(() => {});
      console.error(`--- page ${i}: ${p.url()}\n${(await p.textContent("body").catch(() => "")).slice(0, 1500)}`);
    }
    console.error(server.log().slice(-3000));
    throw e;
  }
});

const pages = [];

async function journey() {
  const staffCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const staff = await staffCtx.newPage();
  pages.push(staff);
  await signIn(staff, server.owner.email, server.owner.password);
  await staff.waitForURL(`${server.base}/staff`);

  // Another client with its own project: the invited user must never see it.
  await staff.goto(`${server.base}/staff/clients`);
  await staff.fill('input[name="name"]', "Globex Industries");
  await staff.click('button:has-text("Add client")');
  await staff.fill('input[name="name"]', "Globex Secret Merger");
  await staff.click('button:has-text("Create project")');
  await staff.waitForURL(/\/staff\/projects\//);

  // The client of this journey.
  await staff.goto(`${server.base}/staff/clients`);
  await staff.fill('input[name="name"]', "Acme Bakery");
  await staff.click('button:has-text("Add client")');
  await staff.waitForURL(/\/staff\/clients\/[0-9a-f-]+$/);
  const clientUrl = staff.url();

  await staff.fill('form[action$="/invitations"] input[name="name"]', "Ana Baker");
  await staff.fill('form[action$="/invitations"] input[name="email"]', "ana@acme.test");
  await staff.selectOption('form[action$="/invitations"] select[name="role"]', "client_admin");
  await staff.click('button:has-text("Send invitation")');
  await staff.waitForURL(/notice=invited/);
  assert.match(await staff.textContent("main"), /ana@acme\.test/);

  await staff.fill('form[action$="/projects"] input[name="name"]', "Website relaunch");
  await staff.fill('form[action$="/projects"] textarea[name="description"]', "A faster, friendlier **website** for Acme.");
  await staff.click('button:has-text("Create project")');
  await staff.waitForURL(/\/staff\/projects\//);
  const projectUrl = staff.url();
  await staff.fill('form[action$="/milestones"] input[name="name"]', "Design approved");
  await staff.click('button:has-text("Add milestone")');
  for (const title of ["Wireframes", "Choose hosting"]) {
    await staff.click("summary:has-text('Add a task')");
    await staff.fill('form[action$="/tasks"] input[name="title"]', title);
    await staff.click('button:has-text("Add task")');
    await staff.waitForURL(projectUrl);
  }

  // The client accepts the invitation from the mail.
  const mail = server.mailTo("ana@acme.test");
  const link = mail.match(/http:\/\/127\.0\.0\.1:\d+\/invite\/[A-Za-z0-9_-]{43}/)[0];
  const clientCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const client = await clientCtx.newPage();
  pages.push(client);
  await client.goto(link);
  await client.fill('input[name="password"]', "ana bakes sourdough daily");
  await client.click('button:has-text("Create my account")');
  await client.waitForURL(`${server.base}/portal`);
  // First visit: the short introduction, shown once.
  assert.match(await client.textContent("main"), /A quick tour/);
  await client.click('form[action="/portal/welcome"] button:has-text("Got it")');
  await client.waitForURL(`${server.base}/portal`);
  await client.reload();
  assert.doesNotMatch(await client.textContent("main"), /A quick tour/, "the guide is gone once dismissed");

  // Staff assigns a task to Ana and leaves an internal note on it.
  await staff.goto(projectUrl);
  await staff.click("summary:has-text('Add a task')");
  await staff.fill('form[action$="/tasks"] input[name="title"]', "Approve the homepage copy");
  await staff.selectOption('form[action$="/tasks"] select[name="assignee_id"]', { label: "Ana Baker (client)" });
  await staff.selectOption('form[action$="/tasks"] select[name="priority"]', "high");
  await staff.click('button:has-text("Add task")');
  await staff.waitForURL(projectUrl);
  await staff.click("a:has-text('Approve the homepage copy')");
  await staff.waitForURL(/\/staff\/tasks\//);
  const staffTaskUrl = staff.url();
  await staff.fill('textarea[name="body"]', "Internal: margin on this job is thin, keep it short.");
  await staff.check('input[name="visibility"][value="note"]');
  await staff.getByRole("button", { name: "Add internal note" }).click();
  await staff.waitForURL(/#comments$/);
  assert.match(await staff.textContent("#comments"), /Internal note/);

  // The client sees only its own project and the task waiting for them.
  await client.goto(`${server.base}/portal`);
  const home = await client.textContent("main");
  assert.match(home, /Ana/);
  assert.match(home, /Approve the homepage copy/);
  assert.match(home, /Website relaunch/);
  assert.doesNotMatch(home, /Globex/);
  await client.screenshot({ path: join(SCREENSHOTS, "portal-home-desktop.png"), fullPage: true });
  await client.goto(`${server.base}/portal/projects`);
  const projects = await client.textContent("main");
  assert.match(projects, /Website relaunch/);
  assert.doesNotMatch(projects, /Globex/);

  // Complete the task (htmx swaps the row in place).
  await client.goto(`${server.base}/portal/tasks`);
  await client.click('li:has-text("Approve the homepage copy") button:has-text("Mark done")');
  await client.waitForSelector('li:has-text("Approve the homepage copy")[data-status="done"]');

  // Reply on the task; the internal note is not there.
  await client.goto(`${server.base}/portal/projects`);
  await client.click("a:has-text('Website relaunch')");
  await client.waitForURL(/\/portal\/projects\//);
  await client.screenshot({ path: join(SCREENSHOTS, "portal-project-desktop.png"), fullPage: true });
  await client.click("summary:has-text('Done')");
  await client.click("a:has-text('Approve the homepage copy')");
  await client.waitForURL(/\/portal\/tasks\//);
  assert.doesNotMatch(await client.textContent("main"), /margin on this job/);
  await client.fill('textarea[name="body"]', "Copy looks great, approved!");
  await client.getByRole("button", { name: "Send reply" }).click();
  await client.waitForURL(/#comments$/);
  const thread = await client.textContent("#comments");
  assert.match(thread, /Copy looks great, approved!/);
  assert.doesNotMatch(thread, /margin on this job/);

  // Staff sees the reply next to the note.
  await staff.goto(staffTaskUrl);
  const staffThread = await staff.textContent("#comments");
  assert.match(staffThread, /Copy looks great, approved!/);
  assert.match(staffThread, /margin on this job/);
  assert.match(await staff.textContent("main"), /Done/);
  await staff.screenshot({ path: join(SCREENSHOTS, "staff-task-desktop.png"), fullPage: true });
  await staff.goto(projectUrl);
  await staff.screenshot({ path: join(SCREENSHOTS, "staff-project-desktop.png"), fullPage: true });

  // Phone-width screenshots of the portal.
  const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
  await phoneCtx.addCookies(await clientCtx.cookies());
  const phone = await phoneCtx.newPage();
  await phone.goto(`${server.base}/portal`);
  await phone.screenshot({ path: join(SCREENSHOTS, "portal-home-phone.png"), fullPage: true });
  await phone.goto(client.url().replace(/\/portal\/tasks\/.*/, "/portal/projects"));
  await phone.click("a:has-text('Website relaunch')");
  await phone.waitForURL(/\/portal\/projects\//);
  await phone.screenshot({ path: join(SCREENSHOTS, "portal-project-phone.png"), fullPage: true });

  // The client cannot open the other client's pages, nor staff pages.
  const other = await client.goto(clientUrl);
  assert.equal(other.status(), 404);
  await staff.goto(`${server.base}/staff/clients`);
}
