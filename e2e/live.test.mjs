// Live updates (issue "Collaboration"): staff marks a task done in one browser context and the
// client's open project page shows it done within 2 seconds, without a reload; a staff note
// produces no event at all on the client's stream; a client message appears live on staff's
// open conversation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startServer, launch, SCREENSHOTS, DEMO_STAFF, DEMO_CLIENT, signIn as signInAt } from "./harness.mjs";

let server;
let browser;
const pages = [];

before(async () => {
  server = await startServer({ demo: true });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const STAFF = DEMO_STAFF;
const CLIENT = DEMO_CLIENT;
const signIn = (page, who) => signInAt(page, server.base, who);

/** Records every event of the page's own stream (same cookies, same filtering as live.js). */
async function recordEvents(page) {
  await page.evaluate(() => {
    window.__events = [];
    const es = new EventSource("/api/v1/events");
    for (const k of ["ready", "task.created", "task.updated", "comment.created", "message.created", "message.updated",
      "message.deleted", "message.read", "notification.created", "reload"]) {
      es.addEventListener(k, (e) => window.__events.push({ kind: k, data: e.data }));
    }
  });
  await page.waitForFunction(() => window.__events.some((e) => e.kind === "ready"));
}

async function events(page) {
  return page.evaluate(() => window.__events);
}

async function withDiagnostics(fn) {
  try {
    await fn();
  } catch (e) {
    for (const [i, p] of pages.entries()) {
      await p.screenshot({ path: join(tmpdir(), `atrium-live-failure-${i}.png`), fullPage: true }).catch(() => {});
      console.error(`--- page ${i}: ${p.url()}\n${(await p.textContent("body").catch(() => "")).slice(0, 1500)}`);
    }
    console.error(server.log().slice(-3000));
    throw e;
  }
}

test("a task staff marks done shows as done on the client's open page within 2 s; notes send nothing", () => withDiagnostics(async () => {
  const clientCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const client = await clientCtx.newPage();
  pages.push(client);
  await signIn(client, CLIENT);
  await client.goto(`${server.base}/portal/projects`);
  await client.locator("a.pcard").first().click();
  await client.waitForURL(/\/portal\/projects\/[0-9a-f-]+$/);
  const projectId = client.url().split("/").pop();
  const firstOpen = client.locator("section.card ul.tasks > li.task:not(.done)").first();
  const taskId = (await firstOpen.getAttribute("id")).replace("task-", "");
  const title = (await firstOpen.locator(".task-title").textContent()).trim();
  await recordEvents(client);
  // A marker that a reload would wipe.
  await client.evaluate(() => { window.__noReload = true; });

  const staffCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const staff = await staffCtx.newPage();
  pages.push(staff);
  await signIn(staff, STAFF);
  await staff.goto(`${server.base}/staff/tasks/${taskId}`);
  await staff.selectOption('form[action="/staff/tasks/' + taskId + '"] select[name="status"]', "done");
  const saved = Date.now();
  await staff.click('form[action="/staff/tasks/' + taskId + '"] button:has-text("Save")');

  // The client's page, untouched, shows the task done (moved under "Done") within 2 s.
  await client.waitForFunction(
    (id) => {
      const li = document.getElementById(`task-${id}`);
      return li && li.getAttribute("data-status") === "done" && li.closest("details") !== null;
    },
    taskId,
    { timeout: 2000 },
  );
  const took = Date.now() - saved;
  assert.equal(await client.evaluate(() => window.__noReload), true, "updated without a reload");
  console.log(`# task shown done on the client's page ${took} ms after staff clicked Save`);
  // Screen readers are told: the polite live region outside <main> says the page changed.
  const region = client.locator("#live-status");
  assert.equal(await region.getAttribute("aria-live"), "polite");
  await client.waitForFunction(() => document.getElementById("live-status")?.textContent === "Updated with new activity.", null, { timeout: 2000 });

  // A staff note: no event at all reaches the client. A reply afterwards proves the stream
  // is alive and is the only comment event the client gets.
  const before = (await events(client)).length;
  await staff.goto(`${server.base}/staff/tasks/${taskId}`);
  await staff.fill('textarea[name="body"]', "Internal: the client's budget is nearly spent");
  await staff.check('input[name="visibility"][value="note"]');
  await staff.getByRole("button", { name: "Add internal note" }).click();
  await staff.waitForLoadState("networkidle");
  await staff.fill('textarea[name="body"]', `Done — thanks for the patience on ${title}`);
  await staff.check('input[name="visibility"][value="reply"]');
  await staff.getByRole("button", { name: /^Send reply to / }).click();
  await client.waitForFunction((n) => window.__events.slice(n).some((e) => e.kind === "comment.created"), before, { timeout: 3000 });
  await client.waitForTimeout(300);
  const after = (await events(client)).slice(before);
  const comments = after.filter((e) => e.kind === "comment.created");
  assert.equal(comments.length, 1, `only the reply reached the client: ${JSON.stringify(after)}`);
  assert.ok(after.every((e) => e.kind !== "task.updated"), "nothing else happened");
  assert.doesNotMatch(await client.textContent("body"), /budget is nearly spent/);
  await clientCtx.close();
  await staffCtx.close();
}));

test("a client message appears on staff's open conversation without a reload", () => withDiagnostics(async () => {
  const clientCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const client = await clientCtx.newPage();
  pages.push(client);
  await signIn(client, CLIENT);
  await client.goto(`${server.base}/portal/projects`);
  await client.locator("a.pcard").first().click();
  await client.waitForURL(/\/portal\/projects\/[0-9a-f-]+$/);
  const projectId = client.url().split("/").pop();

  const staffCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const staff = await staffCtx.newPage();
  pages.push(staff);
  await signIn(staff, STAFF);
  await staff.goto(`${server.base}/staff/projects/${projectId}/messages`);
  await staff.evaluate(() => { window.__noReload = true; });

  await client.goto(`${server.base}/portal/projects/${projectId}/messages`);
  const text = `Could we move the review to Thursday? (${Date.now()})`;
  await client.fill('textarea[name="body"]', text);
  await client.getByRole("button", { name: "Send message" }).click();
  await client.waitForLoadState("networkidle");
  await staff.waitForFunction((t) => document.getElementById("messages")?.textContent.includes(t), text, { timeout: 5000 });
  assert.equal(await staff.evaluate(() => window.__noReload), true, "updated without a reload");
  // Staff's open page recorded reading it with a POST (opening a page changes nothing by
  // itself); the client's page shows the receipt live.
  await client.waitForFunction((t) => [...document.querySelectorAll("#messages > li")]
    .some((li) => li.textContent.includes(t) && /Seen by/.test(li.querySelector(".seen")?.textContent || "")),
  text, { timeout: 5000 });
  await staff.screenshot({ path: join(SCREENSHOTS, "staff-messages-desktop.png"), fullPage: false });
  await client.goto(`${server.base}/notifications`);
  await client.screenshot({ path: join(SCREENSHOTS, "portal-notifications-desktop.png"), fullPage: false });
  // Staff's staff-only channel is not visible from the portal.
  const r = await client.goto(`${server.base}/portal/projects/${projectId}/messages?channel=staff`);
  assert.doesNotMatch(await client.textContent("main"), /Staff only/);
  assert.ok(r.ok());
  await clientCtx.close();
  await staffCtx.close();
}));
