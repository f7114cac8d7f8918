// Browser-test harness: a real crm-api serving the built web app on its own fresh PostgreSQL
// database, and headless Debian Chromium driven by playwright-core.
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const apiBin = process.env.CRM_API_BIN ?? resolve(root, "target/debug/crm-api");
const workerBin = process.env.CRM_WORKER_BIN ?? join(dirname(apiBin), "crm-worker");
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const artifacts = resolve(root, "test-artifacts/browser");
mkdirSync(artifacts, { recursive: true });

export const ADMIN = { name: "Ada Lovelace", email: "ada@example.com", password: "correct horse battery" };

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

function dropDatabase(name) {
  execFileSync("psql", [adminUrl, "-qc", `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`], { stdio: "ignore" });
}

/** Deletes a queue's keys from Redis (apalis keeps them all under `<queue>:`); best effort. */
function dropQueue(queue) {
  try {
    const redis = (...args) => execFileSync("redis-cli", ["-u", redisUrl, ...args], { encoding: "utf8" });
    const keys = redis("--scan", "--pattern", `${queue}:*`).split("\n").filter(Boolean);
    for (let i = 0; i < keys.length; i += 100) redis("DEL", ...keys.slice(i, i + 100));
    // apalis lists each queue by its workers set.
    redis("ZREM", "core:apalis:queues:list", `${queue}:workers`);
  } catch {
    // No redis-cli: the keys stay behind, harmlessly.
  }
}

/** Starts crm-api on a fresh database and its own message queue (`crm-browser:<database>`,
 * so jobs of other runs never mix); `stop()` ends it, drops the database and the queue. */
export async function startServer(env = {}) {
  const name = `crm_browser_${process.pid}_${Math.random().toString(16).slice(2, 10)}`;
  const databaseUrl = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const queue = env.MESSAGE_QUEUE ?? `crm-browser:${name}`;
  const port = await freePort();
  const receipts = mkdtempSync(join(tmpdir(), "crm-browser-receipts-"));
  const output = [];
  const child = spawn(apiBin, ["serve"], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      MESSAGE_QUEUE: queue,
      BIND_ADDR: `127.0.0.1:${port}`,
      WEB_DIR: resolve(root, "frontend/dist"),
      RECEIPTS_DIR: receipts,
      ...env,
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => output.push(d));
  child.stderr.on("data", (d) => output.push(d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`crm-api did not start:\n${Buffer.concat(output)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, databaseUrl, queue,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      dropDatabase(name);
      dropQueue(queue);
      rmSync(receipts, { recursive: true, force: true });
    },
  };
}

/** Starts crm-worker (from $CRM_WORKER_BIN, else next to crm-api) on `server`'s database and
 * queue, printing messages instead of sending them, and waits until it takes jobs; `stop()`
 * ends it. */
export async function startWorker(server, env = {}) {
  const output = [];
  const child = spawn(workerBin, [], {
    env: {
      ...process.env,
      DATABASE_URL: server.databaseUrl,
      REDIS_URL: redisUrl,
      MESSAGE_QUEUE: server.queue,
      MESSAGE_PROVIDER: "log",
      WORKER_POLL_MS: "200",
      RECONCILE_SECS: "1",
      // It waits for one send at most this long (plus 5 s) when stopped.
      SEND_TIMEOUT_SECS: "2",
      ...env,
      RUST_LOG: "info",
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => output.push(d));
  child.stderr.on("data", (d) => output.push(d));
  const said = () => Buffer.concat(output).toString();
  const deadline = Date.now() + 30_000;
  while (!said().includes("worker started")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`crm-worker did not start:\n${said()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    /** What the worker has logged so far. */
    output: said,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
    },
  };
}

/** Creates the first admin through the API. */
export async function createAdmin(url) {
  const response = await fetch(`${url}/api/v1/setup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  if (response.status !== 201) throw new Error(`setup answered ${response.status}`);
}

/** Headless Chromium from Debian, never a downloaded browser. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** Server, browser and page for one test; `done(name)` saves a screenshot and cleans up.
 * `context` adds options of the browser context (e.g. `timezoneId`); `startWorker()` starts
 * crm-worker on the server's database and queue, stopped by `done`. */
export async function session({ viewport = { width: 1280, height: 860 }, env = {}, context: contextOptions = {} } = {}) {
  const server = await startServer(env);
  const workers = [];
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  return {
    server, browser, context, page, errors,
    async startWorker(env) {
      const worker = await startWorker(server, env);
      workers.push(worker);
      return worker;
    },
    async done(name) {
      try {
        await page.screenshot({ path: resolve(artifacts, `${name}.png`), fullPage: true });
      } finally {
        await browser.close();
        for (const worker of workers) await worker.stop();
        await server.stop();
      }
    },
  };
}

/** Signs in through the form. */
export async function signIn(page, url, { email = ADMIN.email, password = ADMIN.password } = {}) {
  await page.goto(url);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A session whose admin exists and is signed in, on the customers page. */
export async function signedIn(options) {
  const s = await session(options);
  await createAdmin(s.server.url);
  await signIn(s.page, s.server.url);
  await s.page.getByRole("heading", { name: "Customers" }).waitFor();
  return s;
}

/** Calls the API with the browser's own session, as a script would. */
export function api(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const csrf = document.cookie.split("; ").find((c) => c.startsWith("crm_csrf=")).slice(9);
    const response = await fetch(`/api/v1${path}`, {
      method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }, { method, path, body });
}
