// Lighthouse 12.2.3 (mobile, its default: simulated slow 4G and a 4x slower CPU) on the demo's
// portal Home, a project page and Billing, signed in as the demo client user, in Debian's
// Chromium. Prints the accessibility and performance scores; with --assert, exits non-zero when
// one is below MIN_SCORE.
//
//   cargo build --release --bin atrium && ATRIUM_BIN=target/release/atrium node e2e/lighthouse.mjs --assert
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";
import { startServer, launch, signIn, DEMO_CLIENT, BIN } from "./harness.mjs";

/** The score (0–100) each category must reach with --assert. */
const MIN_SCORE = 95;
const CATEGORIES = ["accessibility", "performance"];

const server = await startServer({ demo: true });
let chrome;
let failed = false;
try {
  // Sign in once with Playwright; Lighthouse sends the session cookie with every request.
  const browser = await launch();
  const page = await browser.newPage();
  await signIn(page, server.base, DEMO_CLIENT);
  await page.goto(`${server.base}/portal/projects`);
  const project = await page.locator("a.pcard").first().getAttribute("href");
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  await browser.close();

  chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROMIUM || "/usr/bin/chromium",
    chromeFlags: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  console.log(`binary: ${BIN}; Lighthouse 12.2.3, mobile, ${(await (await fetch(`http://127.0.0.1:${chrome.port}/json/version`)).json()).Browser}`);
  console.log("| page | accessibility | performance | FCP | LCP | TBT | CLS |");
  console.log("|---|---|---|---|---|---|---|");
  for (const [name, path] of [["portal Home", "/portal"], ["project page", project], ["Billing", "/portal/billing"]]) {
    const r = await lighthouse(`${server.base}${path}`, {
      port: chrome.port,
      output: "json",
      logLevel: "error",
      onlyCategories: CATEGORIES,
      extraHeaders: { Cookie: cookie },
    });
    const lhr = r.lhr;
    if (new URL(lhr.finalDisplayedUrl).pathname !== path) throw new Error(`${name}: ended on ${lhr.finalDisplayedUrl} (not signed in?)`);
    const score = (c) => Math.round(lhr.categories[c].score * 100);
    const metric = (id) => lhr.audits[id].displayValue;
    console.log(`| ${name} | ${score("accessibility")} | ${score("performance")} | ${metric("first-contentful-paint")} | ${metric("largest-contentful-paint")} | ${metric("total-blocking-time")} | ${metric("cumulative-layout-shift")} |`);
    for (const c of CATEGORIES) {
      if (score(c) < MIN_SCORE) {
        failed = true;
        const misses = Object.values(lhr.audits).filter((a) => a.score !== null && a.score < 1 && lhr.categories[c].auditRefs.some((ref) => ref.id === a.id && ref.weight > 0));
        console.log(`  ${name}: ${c} ${score(c)} < ${MIN_SCORE}: ${misses.map((a) => `${a.id} (${a.displayValue || a.score})`).join(", ")}`);
      }
    }
  }
} finally {
  await chrome?.kill();
  await server.stop();
}
if (failed && process.argv.includes("--assert")) process.exit(1);
