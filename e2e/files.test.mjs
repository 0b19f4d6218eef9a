// Files and approvals: staff uploads a PDF and a text file at once with progress, the client
// previews the PDF's first page and downloads it, a staff-only folder never shows in the portal;
// staff requests approval, the client previews it from Home and asks for changes (staff are
// notified), staff uploads v2, the client approves, both see the sign-off.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
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

test("staff uploads files, the client downloads them; staff-only folders stay internal", async () => {
  try {
    await journey();
  } catch (e) {
    for (const [i, p] of pages.entries()) {
      await p.screenshot({ path: join(tmpdir(), `atrium-files-failure-${i}.png`), fullPage: true }).catch(() => {});
      console.error(`--- page ${i}: ${p.url()}\n${(await p.textContent("body").catch(() => "")).slice(0, 1500)}`);
    }
    console.error(server.log().slice(-3000));
    throw e;
  }
});

async function journey() {
  const pdf = readFileSync(fileURLToPath(new URL("../crates/web/tests/fixtures/proposal.pdf", import.meta.url)));
  const a = join(tmpdir(), `proposal-${Date.now()}.pdf`);
  const b = join(tmpdir(), `notes-${Date.now()}.txt`);
  writeFileSync(a, pdf);
  writeFileSync(b, "Meeting notes.\n");

  const client = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } })).newPage();
  pages.push(client);
  await signIn(client, CLIENT);
  await client.goto(`${server.base}/portal/projects`);
  await client.locator("a.pcard").first().click();
  await client.waitForURL(/\/portal\/projects\/[0-9a-f-]+$/);
  const projectId = client.url().split("/").pop();

  const staff = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  pages.push(staff);
  await signIn(staff, STAFF);
  await staff.goto(`${server.base}/staff/projects/${projectId}/files`);
  await staff.setInputFiles('form[data-upload] input[type="file"]', [a, b]);
  await staff.click('form[data-upload] button:has-text("Upload")');
  await staff.waitForFunction(() => document.querySelectorAll("ul.files li.file").length === 2, null, { timeout: 10000 });

  // A staff-only folder with a file the client must never see.
  await staff.fill('input[name="name"]', "Internal estimates");
  await staff.check('input[name="staff_only"]');
  await staff.click('button:has-text("Create folder")');
  await staff.waitForURL(/files\?folder=/);
  const secret = join(tmpdir(), `margins-${Date.now()}.txt`);
  writeFileSync(secret, "Internal margin numbers\n");
  await staff.setInputFiles('form[data-upload] input[type="file"]', [secret]);
  await staff.click('form[data-upload] button:has-text("Upload")');
  await staff.waitForFunction(() => document.querySelectorAll("ul.files li.file").length === 1, null, { timeout: 10000 });
  await staff.screenshot({ path: join(SCREENSHOTS, "staff-files-desktop.png"), fullPage: false });

  await client.goto(`${server.base}/portal/projects/${projectId}/files`);
  const main = await client.textContent("main");
  assert.match(main, /proposal-.*\.pdf/);
  assert.match(main, /notes-.*\.txt/);
  assert.doesNotMatch(main, /Internal estimates|margins-/, "staff-only folder and file stay internal");
  // The PDF's page: its first page rendered on the server, then the download.
  await client.locator("a.fname", { hasText: "proposal-" }).click();
  await client.waitForURL(/\/portal\/files\/[0-9a-f-]+$/);
  await assertPreviewShown(client);
  const [download] = await Promise.all([
    client.waitForEvent("download"),
    client.locator("a", { hasText: "Download v1" }).click(),
  ]);
  const saved = join(tmpdir(), `dl-${Date.now()}.pdf`);
  await download.saveAs(saved);
  assert.deepEqual(readFileSync(saved), pdf);
  assert.match(download.suggestedFilename(), /^proposal-\d+\.pdf$/);
  await client.evaluate(() => window.scrollTo(0, 0));
  await client.screenshot({ path: join(SCREENSHOTS, "portal-file-preview-desktop.png"), fullPage: false });

  // Approval: staff asks Dana to approve the brief; she sees it on Home, asks for changes;
  // staff uploads version 2 (the review reopens); she approves; both see the sign-off.
  await staff.goto(`${server.base}/staff/projects/${projectId}/files`);
  const briefRow = staff.locator("li.file", { hasText: "proposal-" });
  await briefRow.locator("summary", { hasText: "Request approval" }).click();
  await briefRow.locator('input[name="approver_id"]').first().check();
  await briefRow.locator("button", { hasText: "Ask for approval" }).click();
  await staff.waitForURL(/\/staff\/approvals\//);
  const approvalUrl = staff.url();

  await client.goto(`${server.base}/portal`);
  await client.locator("ul.approvals a", { hasText: "proposal-" }).click();
  await client.waitForURL(/\/portal\/approvals\//);
  await assertPreviewShown(client);
  await client.fill('textarea[name="comment"]', "Please add the launch date.");
  await client.click('button[value="changes_requested"]');
  await client.waitForLoadState("networkidle");
  assert.match(await client.textContent("main"), /Please add the launch date\./);

  // Staff are told of the decision.
  await staff.goto(`${server.base}/notifications`);
  assert.match(await staff.textContent("main"), /asked for changes to proposal-\d+\.pdf: Please add the launch date\./);

  writeFileSync(a, Buffer.concat([pdf, Buffer.from("% version two, with the launch date\n")]));
  await staff.goto(`${server.base}/staff/projects/${projectId}/files`);
  await staff.setInputFiles('form[data-upload] input[type="file"]', [a]);
  await staff.click('form[data-upload] button:has-text("Upload")');
  await staff.waitForFunction(() => /v2/.test(document.querySelector("ul.files")?.textContent || ""), null, { timeout: 10000 });

  await client.goto(`${server.base}/portal`);
  await client.locator("ul.approvals a", { hasText: "proposal-" }).click();
  await client.waitForURL(/\/portal\/approvals\//);
  await assertPreviewShown(client);
  await client.click('button[value="approved"]');
  await client.waitForLoadState("networkidle");
  const clientView = await client.textContent("main");
  assert.match(clientView, /Dana Whitfield/);
  assert.match(clientView, /v2|version 2/i);
  await staff.goto(approvalUrl);
  const staffView = await staff.textContent("main");
  assert.match(staffView, /Approved/);
  assert.match(staffView, /Please add the launch date\./, "the full history");
  await staff.screenshot({ path: join(SCREENSHOTS, "staff-approval-desktop.png"), fullPage: false });
}

/** The page's preview image loaded: a rendered PDF page of A4 proportions. */
async function assertPreviewShown(page) {
  const img = page.locator("img.preview-img").first();
  await img.waitFor({ timeout: 10000 });
  await page.waitForFunction(() => {
    const i = document.querySelector("img.preview-img");
    return i && i.complete && i.naturalWidth > 0;
  }, null, { timeout: 15000 });
  const [w, h] = await img.evaluate((i) => [i.naturalWidth, i.naturalHeight]);
  assert.ok(h > w && Math.abs(w / h - 595 / 842) < 0.01, `an A4 page: ${w}×${h}`);
}
