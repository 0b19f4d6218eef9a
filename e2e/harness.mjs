// Starts a real `atrium serve` on a fresh SQLite data dir and drives Debian's Chromium.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import { chromium } from "playwright-core";
import { before, after } from "node:test";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = process.env.ATRIUM_BIN || join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug", "atrium");
export const SCREENSHOTS = join(root, "docs", "screenshots");

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on("error", reject);
  });
}

/**
 * Starts `atrium serve` on a fresh data dir holding one owner, or (`{ demo: true }`) the demo agency.
 * `{ inbound: "support@portal.test" }` adds `--inbound-address` (notification mail gets a Reply-To
 * that `atrium mail-in` reads; see `mailIn`).
 */
export async function startServer({ demo = false, inbound = null } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "atrium-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const owner = { email: "owner@northwind.test", name: "Olivia Owner", password: "e2e owner passphrase" };
  let demoOutput = "";
  if (demo) {
    demoOutput = execFileSync(BIN, ["demo", "--seed-only", "--data-dir", dataDir], { stdio: ["ignore", "pipe", "pipe"] }).toString();
  } else {
    execFileSync(BIN, ["admin", "create-owner", "--data-dir", dataDir, "--email", owner.email, "--name", owner.name, "--password", owner.password], { stdio: "pipe" });
  }
  const args = ["serve", "--data-dir", dataDir, "--bind", `127.0.0.1:${port}`, "--agency-name", "Northwind Studio"];
  if (inbound) args.push("--inbound-address", inbound);
  const proc = spawn(BIN, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  let log = "";
  proc.stdout.on("data", (d) => { log += d; });
  proc.stderr.on("data", (d) => { log += d; });
  for (let i = 0; i < 100; i++) {
    try { const r = await fetch(`${base}/healthz`); if (r.ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  /** Every mail in the outbox sent to `to`, newest first, raw. */
  const rawMailsTo = (to) => {
    const dir = join(dataDir, "outbox");
    let names;
    try { names = readdirSync(dir); } catch { return []; }
    return names.map((f) => join(dir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
      .map((f) => readFileSync(f, "utf8")).filter((raw) => raw.includes(`To: ${to}`));
  };
  return {
    base, dataDir, owner, demoOutput, inbound,
    log: () => log,
    async stop() { proc.kill("SIGTERM"); await new Promise((r) => proc.once("exit", r)); rmSync(dataDir, { recursive: true, force: true }); },
    /** The newest mail in the outbox sent to `to`, decoded to text. */
    mailTo(to) {
      const raw = rawMailsTo(to)[0];
      if (raw === undefined) throw new Error(`no mail to ${to}`);
      return decodeMail(raw);
    },
    rawMailsTo,
    /**
     * Waits (the job queue sends mail in the background) for the newest raw mail to `to` for
     * which `match(raw, headers)` holds; `headers` are the unfolded top-level headers, keys in
     * lower case. Returns `{ raw, headers, text }` (`text` decoded), or null after `timeout` ms.
     */
    async waitForMail(to, match = () => true, timeout = 10000) {
      const until = Date.now() + timeout;
      for (;;) {
        for (const raw of rawMailsTo(to)) {
          const headers = mailHeaders(raw);
          if (match(raw, headers)) return { raw, headers, text: decodeMail(raw) };
        }
        if (Date.now() > until) return null;
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    /**
     * Pipes a raw RFC 5322 message to `atrium mail-in` on this data dir (as an MTA would).
     * Returns `{ status, stderr }`; 0 means taken.
     */
    mailIn(raw) {
      const args = ["mail-in", "--data-dir", dataDir];
      if (inbound) args.push("--inbound-address", inbound);
      const r = spawnSync(BIN, args, { input: raw, env: { ...process.env, RUST_LOG: "warn" } });
      return { status: r.status, stderr: `${r.stderr ?? ""}`, stdout: `${r.stdout ?? ""}` };
    },
  };
}

/** The top-level headers of a raw mail, unfolded, keys in lower case (the first of each name). */
export function mailHeaders(raw) {
  const head = raw.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, " ");
  const out = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    if (!(k in out)) out[k] = line.slice(i + 1).trim();
  }
  return out;
}

/** Decodes the text parts of an .eml (quoted-printable or base64) well enough to find links. */
export function decodeMail(raw) {
  let out = raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  for (const m of raw.matchAll(/Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/g)) {
    out += "\n" + Buffer.from(m[1].replace(/\s/g, ""), "base64").toString("utf8");
  }
  return out;
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
}

/** The logins `atrium demo` creates (its password is the same for everyone). */
export const DEMO_STAFF = { email: "ana@northwind.test", password: "atrium-demo-2026" };
export const DEMO_CLIENT = { email: "client@acme.test", password: "atrium-demo-2026" };

/** Signs in through the form and waits for the landing page. */
export async function signIn(page, base, { email, password }) {
  await page.goto(`${base}/login`);
  await page.fill('input[name="email"] >> nth=0', email);
  await page.fill('input[name="password"]', password);
  await page.click('button:has-text("Sign in")');
  await page.waitForLoadState("networkidle");
}

/**
 * Registers the file's before/after hooks: a server (`startServer` options) and Chromium, both
 * stopped at the end. Returns an object whose `server` and `browser` are set once started.
 */
export function serverAndBrowser(options) {
  const env = { server: null, browser: null };
  before(async () => { env.server = await startServer(options); env.browser = await launch(); });
  after(async () => { await env.browser?.close(); await env.server?.stop(); });
  return env;
}

/** On the staff page: adds a client and invites `who` as its Client Admin; returns the client page's address. */
export async function addClientAndInvite(staff, base, clientName, who) {
  await staff.goto(`${base}/staff/clients`);
  await staff.fill('input[name="name"]', clientName);
  await staff.click('button:has-text("Add client")');
  await staff.waitForURL(/\/staff\/clients\/[0-9a-f-]+$/);
  const clientUrl = staff.url();
  await staff.fill('form[action$="/invitations"] input[name="name"]', who.name);
  await staff.fill('form[action$="/invitations"] input[name="email"]', who.email);
  await staff.selectOption('form[action$="/invitations"] select[name="role"]', "client_admin");
  await staff.click('button:has-text("Send invitation")');
  await staff.waitForURL(/notice=invited/);
  return clientUrl;
}

/** `who` accepts their invitation mail on a phone and lands on the portal's Home; returns the phone's page. */
export async function acceptOnPhone(server, browser, who) {
  const invite = await server.waitForMail(who.email, (raw) => /\/invite\//.test(raw));
  if (!invite) throw new Error(`no invitation mail for ${who.email}`);
  const link = invite.text.match(/http:\/\/127\.0\.0\.1:\d+\/invite\/[A-Za-z0-9_-]{43}/)[0];
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const phone = await ctx.newPage();
  await phone.goto(link);
  await phone.fill('input[name="password"]', who.password);
  await phone.click('button:has-text("Create my account")');
  await phone.waitForURL(`${server.base}/portal`);
  const gotIt = phone.locator('form[action="/portal/welcome"] button:has-text("Got it")');
  if (await gotIt.count()) {
    await gotIt.click();
    await phone.waitForURL(`${server.base}/portal`);
  }
  return phone;
}

/**
 * Runs a journey; when it fails, saves a screenshot of each of `pages` to the temporary folder
 * (`atrium-<name>-failure-<i>.png`) and prints their text and the server's log before failing.
 */
export async function journeyWithDump(env, pages, name, journey) {
  try {
    await journey();
  } catch (e) {
    for (const [i, p] of pages.entries()) {
      await p.screenshot({ path: join(tmpdir(), `atrium-${name}-failure-${i}.png`), fullPage: true }).catch(() => {});
      console.error(`--- page ${i}: ${p.url()}\n${(await p.textContent("body").catch(() => "")).slice(0, 1500)}`);
    }
    console.error(env.server.log().slice(-3000));
    throw e;
  }
}
