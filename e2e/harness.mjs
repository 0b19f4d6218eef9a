// Starts a real `atrium serve` on a fresh SQLite data dir and drives Debian's Chromium.
import { spawn, execFileSync } from "node:child_process";
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

/** Starts `atrium serve` on a fresh data dir holding one owner, or (`{ demo: true }`) the demo agency. */
export async function startServer({ demo = false } = {}) {
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
  const proc = spawn(BIN, ["serve", "--data-dir", dataDir, "--bind", `127.0.0.1:${port}`, "--agency-name", "Northwind Studio"], {
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
  return {
    base, dataDir, owner, demoOutput,
    log: () => log,
    async stop() { proc.kill("SIGTERM"); await new Promise((r) => proc.once("exit", r)); rmSync(dataDir, { recursive: true, force: true }); },
    /** The newest mail in the outbox sent to `to`, decoded to text. */
    mailTo(to) {
      const dir = join(dataDir, "outbox");
      const files = readdirSync(dir).map((f) => join(dir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
      for (const f of files) {
        const raw = readFileSync(f, "utf8");
        if (raw.includes(`To: ${to}`)) return decodeMail(raw);
      }
      throw new Error(`no mail to ${to}`);
    },
  };
}

/** Decodes the text parts of an .eml (quoted-printable or base64) well enough to find links. */
function decodeMail(raw) {
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
