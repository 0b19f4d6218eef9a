// The project template journey: staff start a client's project from the "Website redesign"
// starter with a start date; the client admin (on a phone) finds the project with its pages, its
// folders (not the staff-only one) and the tasks the template gave them, dated from the start;
// staff save the project as a new template and change it in the editor.
import { test } from "node:test";
import assert from "node:assert/strict";
import { serverAndBrowser, signIn, addClientAndInvite, acceptOnPhone, journeyWithDump } from "./harness.mjs";

const env = serverAndBrowser();
const pages = [];

const ANA = { name: "Ana Baker", email: "ana@bakery.test", password: "ana bakes sourdough daily" };
const PROJECT = "Bakery website";

test("a project made from a template reaches the client dated from its start; staff save it as a template and edit it", async () => {
  await journeyWithDump(env, pages, "templates", journey);
});

async function journey() {
  const { server, browser } = env;
  const base = server.base;

  // A client whose admin has signed up.
  const staffCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const staff = await staffCtx.newPage();
  pages.push(staff);
  await signIn(staff, base, server.owner);
  const clientUrl = await addClientAndInvite(staff, base, "Bakery Co", ANA);
  const phone = await acceptOnPhone(server, browser, ANA);
  pages.push(phone);

  // Staff start the project from the starter template, on 1 March 2027.
  await staff.goto(clientUrl);
  const form = staff.locator('form[action$="/projects"]');
  await form.locator('input[name="name"]').fill(PROJECT);
  await form.getByLabel("Template").selectOption({ label: "Website redesign" });
  await form.getByLabel("Start").fill("2027-03-01");
  await form.getByRole("button", { name: "Create project" }).click();
  await staff.waitForURL(/\/staff\/projects\/[0-9a-f-]+$/);
  const projectUrl = staff.url();
  const main = await staff.textContent("main");
  for (const expected of ["Discovery complete", "Design approved", "Launch", "Kick-off call", "Go live", "How we work"]) {
    assert.ok(main.includes(expected), `the project page shows ${expected}`);
  }

  // The client admin sees the project, its page, its client folders and their own tasks.
  await phone.goto(`${base}/portal/tasks`);
  const tasks = await phone.textContent("main");
  assert.match(tasks, /Send logins for the current site and analytics/, "the template's client task is theirs");
  assert.match(tasks, /Review and approve the designs/);
  assert.doesNotMatch(tasks, /Kick-off call/, "the lead's tasks are not theirs");
  await phone.goto(`${base}/portal/projects`);
  await phone.getByRole("link", { name: new RegExp(PROJECT) }).first().click();
  await phone.waitForURL(/\/portal\/projects\/[0-9a-f-]+$/);
  await phone.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "How we work" }).click();
  assert.match(await phone.textContent("main"), /Discovery/);
  await phone.goBack();
  await phone.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Files" }).click();
  const files = await phone.textContent("main");
  assert.match(files, /Designs/);
  assert.match(files, /Content from you/);
  assert.doesNotMatch(files, /Internal working files/, "the staff-only folder stays hidden");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no sideways scroll on the phone (${overflow}px)`);

  // Staff save the project as a template and change a milestone in the editor.
  await staff.goto(projectUrl);
  const save = staff.locator(`form[action$="/template"]`);
  await save.getByLabel("Template name").fill("Bakery-style website");
  await save.getByRole("button", { name: "Save as template" }).click();
  await staff.waitForURL(/\/staff\/templates\/[0-9a-f-]+\?notice=saved_from_project$/);
  assert.match(await staff.textContent("main"), /Template saved from the project/);
  const first = staff.getByLabel("Milestone 1 name");
  assert.equal(await first.inputValue(), "Discovery complete");
  assert.equal(await staff.getByLabel("Milestone 1 due, days after the start").inputValue(), "10");
  await staff.getByLabel("Milestone 1 due, days after the start").fill("12");
  await staff.getByRole("button", { name: "Save template" }).click();
  await staff.waitForURL(/notice=saved$/);
  assert.equal(await staff.getByLabel("Milestone 1 due, days after the start").inputValue(), "12");
  await staff.goto(`${base}/staff/templates`);
  assert.match(await staff.textContent("main"), /Bakery-style website/);
}
