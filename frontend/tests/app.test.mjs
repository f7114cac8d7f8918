// The web app in a real browser: every flow a user goes through, against a real server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN, artifacts, createAdmin, session, signIn, signedIn } from "./harness.mjs";

const toast = (page, text) => page.locator(".toast", { hasText: text });
/** Adds a customer through the modal and waits for their page. */
async function openNewCustomer(page, name) {
  await page.getByRole("button", { name: "Add customer" }).click();
  await page.getByRole("dialog").getByLabel("Name *").fill(name);
  await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name }).waitFor();
}

const fixtures = new URL("../../crates/receipts/tests/fixtures/", import.meta.url).pathname;

test("first run offers to create the admin, who lands on an empty customer list", async () => {
  const s = await session();
  try {
    const { page } = s;
    await page.goto(s.server.url);
    await page.getByRole("heading", { name: "Create the first admin" }).waitFor();
    // The browser runs the same rules as the server before sending.
    await page.getByLabel("Your name").fill(ADMIN.name);
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    await page.locator("#field-email.is-invalid").waitFor();
    assert.match(await page.locator("#field-email-error").innerText(), /valid email address/);
    assert.match(await page.locator("#field-password-error").innerText(), /at least 10 characters/);
    assert.equal(await page.evaluate(() => document.activeElement.id), "field-email");

    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    await toast(page, "Your admin account is ready").waitFor();
    await page.getByRole("heading", { name: "Customers" }).waitFor();
    await page.getByText("No customers match").waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.done("first-run-setup");
  }
});

test("a wrong password is refused; the right one signs in and the session survives a reload", async () => {
  const s = await session();
  try {
    const { page } = s;
    await createAdmin(s.server.url);
    await signIn(page, s.server.url, { password: "wrong password" });
    await page.locator("#login-form .alert", { hasText: "email or password is incorrect" }).waitFor();
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Customers" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Customers" }).waitFor();
    await page.getByText(ADMIN.name).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await toast(page, "You are signed out").waitFor();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
  } finally {
    await s.done("sign-in-and-out");
  }
});

test("adding a customer shows the server's field errors, saves nothing, then saves when fixed", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    await page.getByRole("button", { name: "Add customer" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name *").fill("Grace Hopper");
    await dialog.getByLabel("Email").fill("grace@example.com");
    // Has the shape of a number, so it passes the browser's light check; the server refuses it.
    await dialog.getByLabel("Phone").fill("+1 555 0100");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.locator("#field-phone.is-invalid").waitFor();
    assert.match(await dialog.locator("#field-phone-error").innerText(), /valid phone number/);
    await toast(page, "correct the highlighted fields").waitFor();
    const before = await page.evaluate(() => fetch("/api/v1/customers").then((r) => r.json()));
    assert.equal(before.total, 0);
    assert.equal(await dialog.getByLabel("Name *").inputValue(), "Grace Hopper", "what was typed is kept");

    await dialog.getByLabel("Phone").fill("(415) 555-2671");
    await dialog.getByRole("button", { name: "Save" }).click();
    await toast(page, "Grace Hopper added").waitFor();
    // Saving opens the new customer's page.
    await page.getByRole("heading", { name: "Grace Hopper" }).waitFor();
    await page.getByText("+14155552671").waitFor();
    await page.getByRole("link", { name: "← Customers" }).click();
    await page.locator("#customers-table").getByRole("link", { name: "Grace Hopper" }).waitFor();
  } finally {
    await s.done("add-customer");
  }
});

test("search, open, edit, archive and restore a customer", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    for (const name of ["Ada Lovelace", "Alan Turing", "Grace Hopper"]) {
      await page.evaluate(async (name) => {
        const csrf = document.cookie.match(/crm_csrf=([^;]+)/)[1];
        await fetch("/api/v1/customers", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ name }),
        });
      }, name);
    }
    await page.reload();
    const table = page.locator("#customers-table");
    await table.getByRole("link", { name: "Alan Turing" }).waitFor();
    await page.getByLabel("Search customers").fill("hopp");
    await table.getByRole("link", { name: "Grace Hopper" }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll("#customers-table tbody tr").length === 1);

    await table.getByRole("link", { name: "Grace Hopper" }).click();
    await page.getByRole("heading", { name: "Grace Hopper" }).waitFor();
    await page.getByRole("button", { name: "Edit" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Notes").fill("Prefers mornings.");
    await dialog.getByRole("button", { name: "Save" }).click();
    await toast(page, "Grace Hopper saved").waitFor();
    await page.getByText("Prefers mornings.").waitFor();
    await page.locator("#activity").getByText("changed notes").waitFor();

    page.once("dialog", (d) => {
      assert.match(d.message(), /scheduled messages will be canceled/);
      d.accept();
    });
    await page.getByRole("button", { name: "Archive" }).click();
    await toast(page, "Grace Hopper archived").waitFor();
    await page.locator("h1 .badge", { hasText: "Archived" }).waitFor();
    await page.getByRole("link", { name: "← Customers" }).click();
    await page.getByLabel("Search customers").fill("");
    await table.getByRole("link", { name: "Alan Turing" }).waitFor();
    assert.equal(await table.getByRole("link", { name: "Grace Hopper" }).count(), 0);
    await page.getByLabel("Which customers").selectOption("true");
    await table.getByRole("link", { name: "Grace Hopper" }).click();
    await page.getByRole("button", { name: "Restore" }).click();
    await toast(page, "Grace Hopper restored").waitFor();
    await page.getByRole("button", { name: "Archive" }).waitFor();
    assert.ok(await page.getByRole("button", { name: "Archive" }).isEnabled());
  } finally {
    await s.done("customer-detail");
  }
});

test("an API token is shown once, can be copied and revoked", async () => {
  const s = await signedIn();
  try {
    const { page, context } = s;
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("button", { name: "Create token" }).click();
    await page.locator("#field-name.is-invalid").waitFor();
    await page.locator("#field-token-current_password.is-invalid").waitFor();
    await page.getByLabel("Token name").fill("import script");
    await page.getByLabel("Expires").selectOption("30");
    await page.getByLabel("Confirm with your password").fill("not my password");
    await page.getByRole("button", { name: "Create token" }).click();
    await page.locator("#field-token-current_password-error", { hasText: "This is not your current password." }).waitFor();
    await page.getByLabel("Confirm with your password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Create token" }).click();
    await toast(page, "Copy it now").waitFor();
    await page.locator("#tokens", { hasText: "expires" }).waitFor();
    const secret = await page.getByLabel("New token").inputValue();
    assert.match(secret, /^crm_/);
    const works = await fetch(`${s.server.url}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(works.status, 200);

    page.once("dialog", (d) => d.accept());
    await page.locator("#tokens").getByRole("button", { name: "Revoke" }).click();
    await toast(page, "revoked").waitFor();
    await page.getByText("No tokens.").waitFor();
    const revoked = await fetch(`${s.server.url}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(revoked.status, 401);
  } finally {
    await s.done("api-tokens");
  }
});

test("the first screen downloads only its own code; a customer's page arrives while the list is read, another page's when opened, and can be retried", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    const fetched = () => page.evaluate(() => performance.getEntriesByType("resource")
      .filter((entry) => new URL(entry.name).pathname.endsWith(".wasm"))
      .map((entry) => ({ path: new URL(entry.name).pathname, start: entry.startTime, end: entry.responseEnd })));
    const modules = async () => (await fetched()).map((entry) => entry.path);

    // The first screen is one module; once the list has arrived, the browser fetches the
    // customer page's code while idle, after the first screen's, and no other page's.
    await page.waitForFunction(() => performance.getEntriesByType("resource")
      .some((entry) => entry.name.endsWith("/pkg/split_customer_page.wasm")));
    const [first, ...preloaded] = await fetched();
    assert.equal(first.path, "/pkg/crm_frontend_bg.wasm");
    assert.ok(preloaded.length >= 1);
    for (const chunk of preloaded) {
      assert.ok(chunk.start >= first.end, `${chunk.path} was fetched before the first screen's code had arrived`);
      assert.doesNotMatch(chunk.path, /settings|messages|reminders/);
    }
    // Opening a customer then needs no code from the network.
    await openNewCustomer(page, "Grace Hopper");
    assert.equal((await modules()).length, 1 + preloaded.length);
    await page.getByRole("link", { name: "← Customers" }).click();
    await page.getByRole("heading", { name: "Customers" }).waitFor();

    // The connection drops while the settings page's code is on its way.
    const chunk = "**/pkg/split_settings_page.wasm";
    await page.route(chunk, (route) => route.abort("internetdisconnected"));
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("alert").filter({ hasText: "This page could not be loaded" }).waitFor();
    await page.unroute(chunk);
    await page.getByRole("button", { name: "try again" }).click();
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    await page.getByRole("button", { name: "Create token" }).waitFor();
    assert.ok((await modules()).includes("/pkg/split_settings_page.wasm"));

    // Back and forth: the app goes on working with the code it has.
    await page.getByRole("link", { name: "Customers" }).click();
    await page.getByRole("heading", { name: "Customers" }).waitFor();
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.done("lazy-page-retry");
  }
});

test("an ended session asks to sign in again and returns to the same page", async () => {
  const s = await signedIn();
  try {
    const { page, context } = s;
    await page.goto(`${s.server.url}/settings`);
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    await context.clearCookies();
    await page.getByLabel("Token name").fill("after expiry");
    await page.getByLabel("Confirm with your password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Create token" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await signIn(page, page.url());
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    assert.ok(page.url().endsWith("/settings"));
  } finally {
    await s.done("session-expiry");
  }
});

test("the modal works from the keyboard and the list fits a phone", async () => {
  const s = await signedIn({ viewport: { width: 375, height: 740 } });
  try {
    const { page } = s;
    await page.getByRole("button", { name: "Add customer" }).focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    await page.waitForFunction(() => document.activeElement?.id === "field-name");
    await page.keyboard.type("Katherine Johnson");
    await page.keyboard.press("Enter");
    await toast(page, "Katherine Johnson added").waitFor();
    await page.getByRole("heading", { name: "Katherine Johnson" }).waitFor();
    await page.getByRole("button", { name: "Edit" }).focus();
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await page.waitForFunction(() => document.activeElement?.id === "field-name");
    // Shift+Tab past the first control wraps to the last: the focus stays in the dialog.
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Shift+Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Save");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Close");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    // The focus is back on the button that opened the dialog.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Edit");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `page is ${width}px wide on a 375px screen`);
  } finally {
    await s.done("phone-keyboard");
  }
});

test("when the server stops, the form keeps what was typed and says so", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    await page.getByRole("button", { name: "Add customer" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name *").fill("Hedy Lamarr");
    await page.route("**/api/v1/customers", (route) => route.abort("connectionrefused"));
    await dialog.getByRole("button", { name: "Save" }).click();
    await toast(page, "Cannot reach the server").waitFor();
    assert.equal(await dialog.getByLabel("Name *").inputValue(), "Hedy Lamarr");
    await page.unroute("**/api/v1/customers");
    await dialog.getByRole("button", { name: "Save" }).click();
    await toast(page, "Hedy Lamarr added").waitFor();
  } finally {
    await s.done("network-failure");
  }
});

test("an invoice with a photo receipt is uploaded, listed, previewed and deleted", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    await openNewCustomer(page, "Grace Hopper");

    await page.getByRole("button", { name: "Add invoice" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.locator("#field-amount.is-invalid").waitFor();
    await dialog.locator("#field-receipt.is-invalid").waitFor();

    // A GIF passes the browser's check (a file is chosen) and is refused by the server, by content.
    await dialog.getByLabel("Amount").fill("1234.5");
    await dialog.getByLabel("Currency").fill("EUR");
    await dialog.locator("#field-receipt").setInputFiles(`${fixtures}image.gif`);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.locator("#field-receipt-error", { hasText: "Only PDF, JPEG or PNG files are allowed." }).waitFor();
    assert.equal(await dialog.getByLabel("Amount").inputValue(), "1234.5", "what was typed is kept");

    await dialog.locator("#field-receipt").setInputFiles(`${fixtures}exif-rotated.jpg`);
    await dialog.getByRole("button", { name: "Save" }).click();
    await toast(page, "Invoice added: 1234.50 EUR").waitFor();
    const table = page.locator("#invoices-table");
    await table.getByText("1234.50 EUR").waitFor();
    await page.locator("#invoice-totals", { hasText: "1 of 1 shown. Totals: 1234.50 EUR" }).waitFor();
    // The activity trail follows without a reload.
    await page.locator("#activity").getByText("Ada Lovelace added an invoice").waitFor();

    // Edit: a wrong amount is refused under its field; then a new amount and a new receipt.
    await table.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("dialog");
    assert.equal(await edit.getByLabel("Amount").inputValue(), "1234.50", "the form starts from the invoice");
    await edit.getByLabel("Amount").fill("12.345");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.locator("#field-amount.is-invalid").waitFor();
    await edit.getByLabel("Amount").fill("99.9");
    await edit.getByLabel("Invoice number").fill("2026-0042");
    // Fields and file are saved together: a refused file keeps the new amount from being saved.
    await edit.locator("#field-receipt").setInputFiles(`${fixtures}image.gif`);
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.locator("#field-receipt-error", { hasText: "Only PDF, JPEG or PNG files are allowed." }).waitFor();
    const stored = await page.evaluate(async (path) => (await (await fetch(path)).json()).items[0].amount,
      new URL(page.url()).pathname.replace("/customers/", "/api/v1/customers/") + "/invoices");
    assert.equal(stored, "1234.50", "nothing saved");
    await edit.locator("#field-receipt").setInputFiles(`${fixtures}rgb.png`);
    await edit.getByRole("button", { name: "Save" }).click();
    await toast(page, "Invoice saved: 99.90 EUR").waitFor();
    await table.getByText("99.90 EUR").waitFor();
    await page.locator("#activity").getByText("Ada Lovelace replaced the receipt of an invoice").waitFor();
    await page.locator("#activity").getByText("Ada Lovelace changed invoice 2026-0042").waitFor();

    await table.getByRole("button", { name: "View" }).click();
    const preview = page.getByRole("dialog");
    await preview.locator("iframe[title='Receipt preview']").waitFor();
    const pdf = await page.evaluate(async () => {
      const src = document.querySelector("iframe[title='Receipt preview']").getAttribute("src");
      const response = await fetch(src);
      return { type: response.headers.get("content-type"), start: (await response.text()).slice(0, 5) };
    });
    assert.deepEqual(pdf, { type: "application/pdf", start: "%PDF-" });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `${artifacts}/invoice-preview.png` });
    // The preview takes the focus, so Escape closes it at once.
    await page.keyboard.press("Escape");
    await preview.waitFor({ state: "detached" });

    page.once("dialog", (d) => d.accept());
    await table.getByRole("button", { name: "Delete" }).click();
    await toast(page, "Invoice deleted").waitFor();
    await page.getByText("No invoices yet.").waitFor();
    await page.locator("#activity").getByText("Ada Lovelace deleted invoice 2026-0042").waitFor();
  } finally {
    await s.done("invoice-upload");
  }
});

test("a customer's invoices come in pages, newest first; Show more adds the older ones", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    const pdf = readFileSync(`${fixtures}plain.pdf`).toString("base64");
    // 27 invoices through the API, as a script would add them (the browser's own session).
    const customerId = await page.evaluate(async (pdf) => {
      const csrf = document.cookie.split("; ").find((c) => c.startsWith("crm_csrf=")).slice(9);
      const headers = { "X-CSRF-Token": csrf };
      const created = await fetch("/api/v1/customers", {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify({ name: "Paged Customer" }),
      });
      const customer = await created.json();
      const bytes = Uint8Array.from(atob(pdf), (c) => c.charCodeAt(0));
      for (let day = 1; day <= 27; day++) {
        const dd = String(day).padStart(2, "0");
        const form = new FormData();
        form.append("amount", "1.10");
        form.append("number", `INV-${dd}`);
        form.append("issued_on", `2026-01-${dd}`);
        form.append("receipt", new Blob([bytes], { type: "application/pdf" }), "scan.pdf");
        const answer = await fetch(`/api/v1/customers/${customer.id}/invoices`, { method: "POST", headers, body: form });
        if (answer.status !== 201) throw new Error(await answer.text());
      }
      return customer.id;
    }, pdf);
    await page.goto(`${s.server.url}/customers/${customerId}`);
    const rows = page.locator("#invoices-table tbody tr");
    await page.locator("#invoice-totals", { hasText: "25 of 27 shown. Totals: 29.70 USD" }).waitFor();
    assert.equal(await rows.count(), 25);
    assert.match(await rows.first().innerText(), /INV-27/);
    await page.getByRole("button", { name: "Show more" }).click();
    await page.locator("#invoice-totals", { hasText: "27 of 27 shown." }).waitFor();
    assert.equal(await rows.count(), 27);
    assert.match(await rows.last().innerText(), /INV-01/);
    assert.equal(await page.getByRole("button", { name: "Show more" }).count(), 0, "nothing more to show");
    // 28 events (the customer, 27 invoices): the newest 25, then the rest.
    const events = page.locator("#activity li");
    assert.equal(await events.count(), 25);
    await page.getByRole("button", { name: "Show older activity" }).click();
    await page.locator("#activity").getByText("Ada Lovelace added the customer").waitFor();
    assert.equal(await events.count(), 28);
  } finally {
    await s.done("invoice-pages");
  }
});

test("a photo over the upload limit is refused under the file field, not as a network error", async () => {
  const s = await signedIn({ env: { MAX_UPLOAD_BYTES: String(1024 * 1024) } });
  try {
    const { page } = s;
    const big = join(mkdtempSync(join(tmpdir(), "crm-big-")), "huge-photo.jpg");
    writeFileSync(big, Buffer.concat([readFileSync(`${fixtures}baseline.jpg`), Buffer.alloc(3 * 1024 * 1024)]));
    await openNewCustomer(page, "Grace Hopper");
    await page.getByRole("button", { name: "Add invoice" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Amount").fill("10");
    await dialog.locator("#field-receipt").setInputFiles(big);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.locator("#field-receipt-error", { hasText: "The upload must be at most 1 MiB." }).waitFor();
    assert.equal(await page.locator("#invoices-table").count(), 0, "nothing saved");
  } finally {
    await s.done("invoice-too-large");
  }
});

test("an upload whose answer was lost is not saved twice when Save is pressed again", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    await openNewCustomer(page, "Grace Hopper");
    // The first upload reaches the server, which saves it; the answer never reaches the browser
    // (Chromium's own request interception, at the response stage, so the real body is sent).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Fetch.enable", { patterns: [{ urlPattern: "*/invoices", requestStage: "Response" }] });
    let dropped = 0;
    cdp.on("Fetch.requestPaused", async ({ requestId, request, responseStatusCode }) => {
      if (request.method === "POST" && dropped === 0) {
        dropped = responseStatusCode;
        await cdp.send("Fetch.failRequest", { requestId, errorReason: "ConnectionReset" });
      } else {
        await cdp.send("Fetch.continueRequest", { requestId });
      }
    });
    await page.getByRole("button", { name: "Add invoice" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Amount").fill("12.5");
    await dialog.locator("#field-receipt").setInputFiles(`${fixtures}baseline.jpg`);
    await dialog.getByRole("button", { name: "Save" }).click();
    await toast(page, "Cannot reach the server").waitFor();
    assert.equal(dropped, 201, "the server saved the first try");
    await dialog.getByRole("button", { name: "Save" }).click();
    await toast(page, "Invoice added: 12.50 USD").waitFor();
    await page.locator("#invoice-totals", { hasText: "1 of 1 shown. Totals: 12.50 USD" }).waitFor();
    assert.equal(await page.locator("#invoices-table tbody tr").count(), 1, "one invoice, not two");
  } finally {
    await s.done("invoice-lost-answer");
  }
});

test("an admin adds a colleague, disables and enables them; staff don't see the accounts but change their password", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("button", { name: "Add person" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name *").fill("Grace Hopper");
    await dialog.getByLabel("Email *").fill("grace@");
    await dialog.getByLabel("Password *").fill("a long passphrase");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.locator("#field-person-email.is-invalid").waitFor();
    await dialog.getByLabel("Email *").fill("grace@example.com");
    await dialog.getByRole("button", { name: "Save" }).click();
    await toast(page, "Grace Hopper can sign in now, as staff.").waitFor();
    const grace = page.locator("#staff li", { hasText: "Grace Hopper" });
    await grace.waitFor();

    await grace.getByRole("button", { name: "Disable" }).click();
    await toast(page, "Grace Hopper is disabled.").waitFor();
    await grace.getByText("Disabled").waitFor();
    await grace.getByRole("button", { name: "Enable" }).click();
    await toast(page, "Grace Hopper can sign in again.").waitFor();
    // The only admin can't step down.
    const ada = page.locator("#staff li", { hasText: ADMIN.name });
    await ada.getByRole("button", { name: "Make staff" }).click();
    await toast(page, "At least one enabled admin must remain").waitFor();
    // Every change to Grace's account is in its history, newest first, said in words.
    await grace.getByRole("button", { name: "History" }).click();
    const history = page.getByRole("dialog", { name: "History of Grace Hopper" });
    const said = history.locator("#activity li > div");
    await said.first().waitFor();
    assert.deepEqual(await said.allTextContents(), [
      "Ada Lovelace enabled it",
      "Ada Lovelace disabled it",
      "Ada Lovelace created the account (staff)",
    ]);
    await page.screenshot({ path: `${artifacts}/account-history.png` });
    await page.keyboard.press("Escape");
    await history.waitFor({ state: "detached" });

    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn(page, s.server.url, { email: "grace@example.com", password: "a long passphrase" });
    await page.getByRole("heading", { name: "Customers" }).waitFor();
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "API tokens" }).waitFor();
    assert.equal(await page.getByRole("heading", { name: "Staff" }).count(), 0, "staff don't manage accounts");

    // Grace changes her own password.
    await page.getByLabel("Current password *").fill("not my password");
    await page.getByLabel("New password *").fill("an even longer passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.locator("#field-current_password-error", { hasText: "This is not your current password." }).waitFor();
    await page.getByLabel("Current password *").fill("a long passphrase");
    assert.ok(await page.getByLabel("Also revoke my API tokens").isChecked(), "revoking is the default");
    await page.getByRole("button", { name: "Change password" }).click();
    await toast(page, "Password changed.").waitFor();
    assert.equal(await page.getByLabel("Current password *").inputValue(), "", "the form is cleared");
  } finally {
    await s.done("staff-accounts");
  }
});
