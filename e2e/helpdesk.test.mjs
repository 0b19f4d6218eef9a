// The help desk journey: a client admin on a phone asks for help about a project (with an
// attachment), staff answers from the Inbox with a saved reply, the client answers by mail (the
// quoted history and the signature are left out of the thread), staff solves the ticket and the
// client rates it from the "How did we do?" mail (confirmed by a click), which both sides see.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { mkdtempSync, writeFileSync } from "node:fs";
import { serverAndBrowser, signIn, decodeMail, SCREENSHOTS, addClientAndInvite, acceptOnPhone, journeyWithDump } from "./harness.mjs";

const INBOUND = "support@portal.test";
const env = serverAndBrowser({ inbound: INBOUND });
const pages = [];

const ANA = { name: "Ana Baker", email: "ana@acme.test", password: "ana bakes sourdough daily" };
const PROJECT = "Website relaunch";
const SUBJECT = "The new logo looks blurry on my phone";
const SAVED = { title: "Looking into it", body: "Thanks for letting us know — we are looking into it and will get back to you today." };
/** A 1×1 PNG. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

test("client asks on a phone (with a file), staff answers with a saved reply, the client answers by mail, staff solves, the client rates", async () => {
  await journeyWithDump(env, pages, "helpdesk", journey);
});

async function journey() {
  const { server, browser } = env;
  const base = server.base;

  // ---- Set-up: a client with a project, its admin invited and signed up, a saved reply.
  const staffCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const staff = await staffCtx.newPage();
  pages.push(staff);
  await signIn(staff, base, server.owner);
  await addClientAndInvite(staff, base, "Acme Bakery", ANA);
  await staff.fill('form[action$="/projects"] input[name="name"]', PROJECT);
  await staff.click('button:has-text("Create project")');
  await staff.waitForURL(/\/staff\/projects\//);
  // The project's request form asks one question (through the API, as the staff page does).
  const projectId = staff.url().match(/\/staff\/projects\/([0-9a-f-]{36})/)[1];
  const formSet = await staff.evaluate(async (id) => {
    const r = await fetch(`/api/v1/projects/${id}/request-form`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-csrf-token": document.body.dataset.csrf },
      body: JSON.stringify({ fields: [{ key: "device", label: "Which device?", type: "text", required: true }] }),
    });
    return r.status;
  }, projectId);
  assert.equal(formSet, 200, "the request form is set");

  await staff.goto(`${base}/staff/saved-replies`);
  const add = staff.locator('form[action="/staff/saved-replies"]');
  await add.getByLabel("Title").fill(SAVED.title);
  await add.getByLabel("Text").fill(SAVED.body);
  await add.getByRole("button", { name: "Add" }).click();
  await staff.waitForLoadState("networkidle");
  assert.match(await staff.textContent("main"), new RegExp(SAVED.title));

  // The client admin accepts the invitation, on a phone.
  const phone = await acceptOnPhone(server, browser, ANA);
  pages.push(phone);

  // ---- The client asks for help from the phone's menu.
  await phone.locator("summary", { hasText: "Menu" }).click();
  await phone.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /^Help desk/ }).click();
  await phone.waitForURL(`${base}/portal/helpdesk`);
  assert.match(await phone.textContent("main"), /No open requests/);
  await phone.getByLabel("What is it about?").selectOption({ label: PROJECT });
  await phone.getByRole("button", { name: "Continue" }).click();
  await phone.waitForURL(/\/portal\/helpdesk\/new\?project_id=[0-9a-f-]+$/);
  assert.match(await phone.textContent("h1"), new RegExp(`Ask for help with ${PROJECT}`));
  assert.equal(await phone.getByLabel("About").inputValue(), new URL(phone.url()).searchParams.get("project_id"), "the project is chosen");
  // The project's question is asked; choosing "General question" takes it away (the form
  // follows the choice without a reload), choosing the project brings it back.
  await phone.getByLabel(/Which device\?/).waitFor();
  await phone.getByLabel("About").selectOption({ label: "General question" });
  await phone.waitForFunction(() => !document.querySelector('[name="field.device"]'));
  await phone.getByLabel("About").selectOption({ label: PROJECT });
  await phone.getByLabel(/Which device\?/).fill("Pixel 8");
  await phone.getByLabel("Subject").fill(SUBJECT);
  await phone.getByLabel("Describe what you need").fill("On my phone the logo in the header is fuzzy. On the laptop it is fine.");

  // The attachment: a picture of the problem, into the project's files with the request.
  const dir = mkdtempSync(join(tmpdir(), "atrium-helpdesk-"));
  const fileName = "blurry-logo.png";
  const filePath = join(dir, fileName);
  writeFileSync(filePath, PNG);
  await phone.getByLabel("Attachments").setInputFiles(filePath);
  await phone.getByRole("button", { name: "Send request" }).click();
  await phone.waitForURL(/\/portal\/helpdesk\/[0-9a-f-]{36}$/);
  const ticketId = phone.url().split("/").pop();
  const heading = await phone.getByRole("heading", { level: 1 }).textContent();
  const label = heading.match(/#\d{4,}/)?.[0];
  assert.ok(label, `the ticket page shows its number: ${heading}`);
  assert.match(heading, new RegExp(SUBJECT));
  assert.match(await phone.textContent("main"), /Which device\?\s*Pixel 8/, "the answer is shown by its label");
  // A link named after the file, inside the block headed "Attachments".
  const attachments = phone.getByText(/^\s*Attachments\b/);
  await phone.locator("main").locator(attachments).first().waitFor();
  const fileLink = phone.locator("main").locator("section, div, dl, ul, figure, details")
    .filter({ has: attachments })
    .getByRole("link", { name: fileName })
    .first();
  await fileLink.waitFor();
  // It leads to the file's page in the project's files, whose download is the file sent.
  const filePage = await phone.request.get(new URL(await fileLink.getAttribute("href"), phone.url()).href);
  assert.equal(filePage.status(), 200, "the attachment's page opens");
  const download = (await filePage.text()).match(/href="([^"]+\/download\?version=\d+)"/)?.[1]?.replace(/&amp;/g, "&");
  assert.ok(download, "the file page has a download link");
  const got = await phone.request.get(new URL(download, phone.url()).href);
  assert.equal(got.status(), 200, "the attachment downloads");
  assert.deepEqual(Buffer.from(await got.body()), PNG, "the attachment is the file sent");
  await phone.screenshot({ path: join(SCREENSHOTS, "portal-helpdesk-mobile.png"), fullPage: true });

  // ---- Staff sees it in the Inbox, answers with the saved reply, edited a little.
  await staff.goto(`${base}/staff/inbox`);
  const row = staff.getByRole("region", { name: "Tickets" }).getByRole("link", { name: new RegExp(`${label}\\s+${SUBJECT}`) });
  await row.waitFor();
  await staff.screenshot({ path: join(SCREENSHOTS, "staff-inbox-desktop.png"), fullPage: false });
  await row.click();
  await staff.waitForURL(`${base}/staff/tickets/${ticketId}`);
  await staff.locator("main").getByRole("link", { name: fileName }).first().waitFor();
  const composer = staff.locator(`form[action="/staff/tickets/${ticketId}/comments"]`);
  await composer.getByLabel(/Reply to Ana Baker/).check();
  const body = composer.getByLabel("Comment", { exact: true });
  await body.fill("Hi Ana,\n\n");
  await body.evaluate((ta) => { ta.selectionStart = ta.selectionEnd = ta.value.length; });
  await composer.getByLabel("Insert saved reply").selectOption({ label: SAVED.title });
  await staff.waitForFunction((t) => document.querySelector("textarea[name=body]")?.value.includes(t), SAVED.body);
  const reply = `${await body.inputValue()}\n\nCould you tell us which phone you use?`;
  assert.match(reply, /^Hi Ana,\n\nThanks for letting us know/, "the saved reply went in at the cursor");
  await body.fill(reply);
  await composer.getByRole("button", { name: /^Send reply to Ana Baker/ }).click();
  await staff.waitForURL(/#comments$/);
  const staffThread = staff.locator("#comments");
  assert.match(await staffThread.textContent(), /Could you tell us which phone you use\?/);
  assert.match(await staffThread.textContent(), /we are looking into it/);
  const sent = staffThread.locator("li.comment", { hasText: "Could you tell us which phone you use?" });
  assert.equal((await sent.locator(".pill").textContent()).trim(), "Reply", "sent as a Reply, not a Note");
  assert.doesNotMatch(await sent.getAttribute("class"), /\bnote\b/);

  // ---- The client answers the notification by mail.
  const note = await server.waitForMail(ANA.email, (raw, h) => Boolean(h["reply-to"]) && decodeMail(raw).includes(ticketId), 10000);
  assert.ok(note, `the reply notification reached the outbox: ${server.rawMailsTo(ANA.email).length} mail(s) to Ana`);
  const replyTo = note.headers["reply-to"].replace(/^.*</, "").replace(/>.*$/, "").trim();
  assert.match(replyTo, /^support\+[^@]+@portal\.test$/, "Reply-To is the signed inbound address");
  const messageId = note.headers["message-id"];
  assert.match(messageId, /^<[^>]+>$/);
  const answer = "It's an iPhone 13 mini, Safari. Thanks for the quick answer!";
  const mail = [
    `From: ${ANA.name} <${ANA.email}>`,
    `To: ${replyTo}`,
    `Subject: Re: ${note.headers.subject}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <reply-${Date.now()}@acme.test>`,
    `In-Reply-To: ${messageId}`,
    `References: ${messageId}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    answer,
    "",
    "-- ",
    "Ana Baker | Head of Sourdough | +1 555 0100",
    "",
    `On ${new Date().toUTCString()}, Northwind Studio <portal@localhost.localdomain> wrote:`,
    "> Olivia Owner replied on your request: QUOTED-HISTORY-MARKER",
    "> Could you tell us which phone you use?",
    "",
  ].join("\r\n");
  const taken = server.mailIn(mail);
  assert.equal(taken.status, 0, `mail-in took the reply (exit ${taken.status}): ${taken.stderr}`);
  await staff.reload();
  await staff.waitForFunction((t) => document.getElementById("comments")?.textContent.includes(t), answer, { timeout: 5000 });
  const thread = await staffThread.textContent();
  assert.doesNotMatch(thread, /QUOTED-HISTORY-MARKER|wrote:/, "the quoted history is left out");
  assert.doesNotMatch(thread, /Head of Sourdough/, "the signature is left out");
  const anaComment = staffThread.locator("li.comment", { hasText: answer });
  assert.match(await anaComment.textContent(), /Ana Baker/, "the mail is Ana's reply");
  assert.equal((await anaComment.locator(".pill").textContent()).trim(), "Reply");
  await staff.screenshot({ path: join(SCREENSHOTS, "staff-ticket-desktop.png"), fullPage: true });

  // ---- Staff solves it.
  const details = staff.locator(`form[action="/staff/tickets/${ticketId}"]`);
  await details.getByLabel("Status").selectOption({ label: "Solved" });
  await details.getByRole("button", { name: "Save" }).click();
  await staff.locator(".head .pill", { hasText: "Solved" }).waitFor();
  assert.equal(await details.getByLabel("Status").inputValue(), "solved");

  // ---- The client rates it: from the "How did we do?" mail (a GET asks, the click records),
  // or, when that mail does not come, the ticket page's form.
  const rateMail = await server.waitForMail(ANA.email, (raw, h) => /How did we do/.test(h.subject || ""), 10000);
  const comment = "Fixed in a day, thank you.";
  if (rateMail) {
    assert.match(rateMail.headers.subject, new RegExp(`How did we do with ${label}\\?`));
    const good = rateMail.text.match(new RegExp(`http://127\\.0\\.0\\.1:\\d+/rate/${ticketId}/good/[A-Za-z0-9_-]+`))?.[0];
    assert.ok(good, `the mail links to the Good rating: ${rateMail.text.slice(0, 2000)}`);
    // The link is the credential: it works without signing in.
    const linkCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const rate = await linkCtx.newPage();
    pages.push(rate);
    await rate.goto(good);
    assert.equal(await rate.getByRole("heading", { level: 1 }).textContent(), "How did we do?");
    assert.match(await rate.textContent("main"), new RegExp(`${label} “${SUBJECT}”: Good`));
    // Opening the link records nothing (mail scanners follow links): only the click does.
    await staff.goto(`${base}/staff/inbox?view=solved`);
    assert.match(await staff.textContent("main"), /Satisfaction: no ratings yet/);
    await rate.getByLabel("Anything to add? (optional)").fill(comment);
    await rate.getByRole("button", { name: "Confirm: Good" }).click();
    await rate.getByRole("heading", { level: 1, name: "Thank you" }).waitFor();
    assert.match(await rate.textContent("main"), new RegExp(`We recorded your rating of ${label}`));
    await linkCtx.close();
  } else {
    console.log("no satisfaction mail within 10 s: rating on the portal's ticket page instead");
    await phone.goto(`${base}/portal/helpdesk/${ticketId}`);
    const form = phone.locator("#rating");
    await form.getByLabel("Good").check();
    await form.getByLabel("Anything to add? (optional)").fill(comment);
    await form.getByRole("button", { name: "Send rating" }).click();
    await phone.waitForURL(/#rating$/);
  }

  // Both sides see the rating.
  await phone.goto(`${base}/portal/helpdesk/${ticketId}`);
  const rating = phone.locator("#rating");
  assert.equal(await rating.getByLabel("Good").isChecked(), true, "the portal shows the rating");
  assert.equal(await rating.getByLabel("Anything to add? (optional)").inputValue(), comment);
  await rating.getByRole("button", { name: "Change rating" }).waitFor();
  await staff.goto(`${base}/staff/inbox?view=solved`);
  assert.match(await staff.textContent("main"), /Satisfaction: \+?\d+.*\(1 good, 0 bad\)/);
  assert.match(await staff.getByRole("region", { name: "Tickets" }).textContent(), new RegExp(SUBJECT));
  await phone.context().close();
  await staffCtx.close();
}
