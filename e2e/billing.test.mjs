// Billing: staff creates and sends an invoice with three lines and two tax rates; the client's
// finance user sees it highlighted as unpaid, opens it and downloads the PDF (a valid PDF whose
// text carries the total); staff records a partial and then the final payment; the client sees
// "Paid". A viewer of the same client has no Billing link and gets 404.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { readFileSync } from "node:fs";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { startServer, launch, SCREENSHOTS, DEMO_STAFF, signIn as signInAt } from "./harness.mjs";

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

const FINANCE = { email: "finance@acme.test", password: DEMO_STAFF.password };
const VIEWER = { email: "viewer@acme.test", password: DEMO_STAFF.password };
const signIn = (page, who) => signInAt(page, server.base, who);

/** The text of every page of a PDF, as a PDF reader extracts it. */
async function pdfText(bytes) {
  const doc = await getDocument({ data: new Uint8Array(bytes), useSystemFonts: false, isEvalSupported: false }).promise;
  let out = "";
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    out += content.items.map((it) => it.str).join(" ") + "\n";
  }
  return out;
}

test("staff bills the client; finance sees it unpaid, downloads the PDF, then sees it paid", async () => {
  try {
    await journey();
  } catch (e) {
    for (const [i, p] of pages.entries()) {
      await p.screenshot({ path: join(tmpdir(), `atrium-billing-failure-${i}.png`), fullPage: true }).catch(() => {});
      console.error(`--- page ${i}: ${p.url()}\n${(await p.textContent("body").catch(() => "")).slice(0, 1500)}`);
    }
    console.error(server.log().slice(-3000));
    throw e;
  }
});

async function journey() {
  const staff = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  pages.push(staff);
  await signIn(staff, DEMO_STAFF);
  await staff.click('nav a:has-text("Invoices")');
  await staff.waitForURL(/\/staff\/invoices$/);
  await staff.click('a:has-text("New invoice")');
  await staff.waitForURL(/\/staff\/invoices\/new$/);
  await staff.selectOption('select[name="client_id"]', { label: "Acme Corporation" });
  await staff.fill('input[name="currency"]', "EUR");
  await staff.fill('input[name="due_date"]', "2099-12-31");
  const lines = [
    ["Website redesign", "1", "3000.00", "19"],
    ["Content migration", "12.5", "80.00", "19"],
    ["Printed brochures", "250", "1.20", "7"],
  ];
  for (const [i, [d, q, p, t]] of lines.entries()) {
    const row = staff.locator("tr.line-row").nth(i);
    await row.locator('input[name="line_description"]').fill(d);
    await row.locator('input[name="line_quantity"]').fill(q);
    await row.locator('input[name="line_unit_price"]').fill(p);
    await row.locator('input[name="line_tax_rate"]').fill(t);
  }
  await staff.click('button:has-text("Save draft")');
  await staff.waitForURL(/\/staff\/invoices\/[0-9a-f-]+$/);
  // 3000.00 + 1000.00 = 4000.00 @19% → 760.00; 300.00 @7% → 21.00; total 5081.00.
  assert.equal((await staff.textContent("#invoice-total")).trim(), "EUR 5,081.00");
  const number = (await staff.textContent(".inv-number")).trim();
  assert.match(number, /^NW-\d{4}$/);
  await staff.click('button:has-text("Send to client")');
  await staff.waitForSelector('.pill[data-status="sent"]');
  const invoiceUrl = staff.url();
  const id = invoiceUrl.split("/").pop();
  await staff.screenshot({ path: join(SCREENSHOTS, "staff-invoice-desktop.png"), fullPage: true });

  // The finance user: billing only, the new invoice highlighted as unpaid.
  const financeCtx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const finance = await financeCtx.newPage();
  pages.push(finance);
  await signIn(finance, FINANCE);
  const nav = await finance.textContent("nav.mainnav");
  assert.match(nav, /Billing/);
  assert.doesNotMatch(nav, /Projects/, "finance users see billing only");
  const homeRow = finance.locator(`tr.inv-row:has(a:has-text("${number}"))`);
  assert.match(await homeRow.getAttribute("class"), /\bunpaid\b/);
  await finance.click('nav a:has-text("Billing")');
  await finance.waitForURL(/\/portal\/billing$/);
  const row = finance.locator(`tr.inv-row:has(a:has-text("${number}"))`);
  assert.match(await row.getAttribute("class"), /\bunpaid\b/, "unpaid invoices are highlighted");
  assert.match(await row.textContent(), /Unpaid/);
  assert.ok(await finance.locator("tr.inv-row.overdue").count() >= 1, "the demo's overdue invoice is highlighted too");
  await finance.screenshot({ path: join(SCREENSHOTS, "portal-billing-desktop.png"), fullPage: true });
  await row.locator("a").first().click();
  await finance.waitForURL(new RegExp(`/portal/billing/${id}$`));
  assert.equal((await finance.textContent("#invoice-total")).trim(), "EUR 5,081.00");
  const text = await finance.textContent("main");
  for (const l of lines) assert.ok(text.includes(l[0]), `line ${l[0]} shown`);
  const [download] = await Promise.all([finance.waitForEvent("download"), finance.click('a:has-text("Download PDF")')]);
  assert.equal(download.suggestedFilename(), `Invoice ${number}.pdf`);
  const bytes = readFileSync(await download.path());
  assert.equal(bytes.subarray(0, 5).toString(), "%PDF-", "a PDF");
  const pdf = await pdfText(bytes);
  assert.match(pdf, /EUR 5,081\.00/, "the PDF's text carries the total");
  assert.ok(pdf.includes(number) && pdf.includes("Acme Corporation") && pdf.includes("Website redesign"));

  // Staff records a partial payment, then the rest.
  for (const amount of ["2000.00", "3081.00"]) {
    await staff.goto(invoiceUrl);
    await staff.fill('#payment-form input[name="amount"]', amount);
    await staff.fill('#payment-form input[name="reference"]', `Transfer ${amount}`);
    await staff.click('#payment-form button:has-text("Record payment")');
    await staff.waitForURL(invoiceUrl);
    if (amount === "2000.00") {
      await staff.waitForSelector('.pill[data-status="partially_paid"]');
      assert.equal((await staff.textContent("#invoice-balance")).trim(), "EUR 3,081.00");
    }
  }
  await staff.waitForSelector('.pill[data-status="paid"]');
  assert.equal(await staff.locator("#payment-form").count(), 0, "a paid invoice takes no more payments");

  // The client sees "Paid", with the payment history.
  await finance.reload();
  assert.equal((await finance.textContent('.invoice-doc .pill')).trim(), "Paid");
  assert.equal((await finance.textContent("#invoice-balance")).trim(), "EUR 0.00");
  assert.match(await finance.textContent(".inv-payments"), /Transfer 2000\.00[\s\S]*Transfer 3081\.00/);
  await finance.goto(`${server.base}/portal/billing`);
  const paidRow = finance.locator(`tr.inv-row:has(a:has-text("${number}"))`);
  assert.doesNotMatch(await paidRow.getAttribute("class"), /\bunpaid\b/);
  assert.match(await paidRow.textContent(), /Paid/);
  await finance.screenshot({ path: join(SCREENSHOTS, "portal-invoice-paid-desktop.png"), fullPage: true });

  // A viewer of the same client: no Billing link, 404 on the invoice.
  const viewer = await (await browser.newContext()).newPage();
  pages.push(viewer);
  await signIn(viewer, VIEWER);
  assert.doesNotMatch(await viewer.textContent("nav.mainnav"), /Billing/);
  const res = await viewer.goto(`${server.base}/portal/billing/${id}`);
  assert.equal(res.status(), 404);
}
