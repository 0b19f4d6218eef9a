// Runs the browser suite with node's test runner (TAP output, non-zero exit on failure).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", join(here, "portal.test.mjs"), join(here, "demo.test.mjs"), join(here, "live.test.mjs"), join(here, "helpdesk.test.mjs"), join(here, "files.test.mjs"), join(here, "billing.test.mjs"), join(here, "templates.test.mjs"), join(here, "branding.test.mjs"), join(here, "a11y.test.mjs")], { stdio: "inherit" });
process.exit(r.status ?? 1);
