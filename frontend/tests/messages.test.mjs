// Scheduled SMS messages in a real browser: schedule, list, cancel, and the worker sending
// them, against a real server (and a real crm-worker where a message is sent).
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, artifacts, signedIn } from "./harness.mjs";

const toast = (page, text) => page.locator(".toast", { hasText: text });
const HOUR = 60 * 60 * 1000;

/** A customer with a phone number, added through the API, whose page is then opened. */
async function openCustomer(page, url, fields = {}) {
  const created = await api(page, "POST", "/customers", {
    name: "Grace Hopper", phone: "+14155552671", timezone: "Europe/London", ...fields,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await page.goto(`${url}/customers/${created.body.id}`);
  await page.getByRole("heading", { name: created.body.name }).waitFor();
  return created.body;
}

/** What a date and time input should hold for `millis` on the clock of `zone`. */
function wallTime(zone, millis) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(millis)).map((p) => [p.type, p.value]),
  );
  const hour = String(Number(parts.hour) % 24).padStart(2, "0");
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${hour}:${parts.minute}` };
}

/** How the browser writes `millis` in its own zone: the customer page's send time, the
 * Messages page's day heading and time of day (the same `Intl` calls as the app). */
function inTheBrowser(page, millis) {
  return page.evaluate((millis) => {
    const at = new Date(millis);
    const day = (d) => [d.getFullYear(), d.getMonth(), d.getDate()].join("-");
    const heading = at.toLocaleDateString("default", { weekday: "long", year: "numeric", month: "long", day: "numeric" });
    return {
      dateTime: at.toLocaleString("default", { dateStyle: "medium", timeStyle: "short" }),
      heading: day(at) === day(new Date()) ? `Today \u2014 ${heading}` : heading,
      clock: at.toLocaleTimeString("default", { timeStyle: "short" }),
    };
  }, millis);
}

/** The row of the customer's messages table that shows `text`. */
const messageRow = (page, text) => page.locator("#messages-table tbody tr", { hasText: text });

test("an SMS is scheduled with the counter showing its parts, listed on the customer page and on the Messages page", async () => {
  // The browser in Paris, the customer in New York: the form speaks the customer's clock,
  // the lists the browser's.
  const s = await signedIn({ context: { timezoneId: "Europe/Paris" } });
  try {
    const { page } = s;
    await page.getByRole("button", { name: "Add customer" }).click();
    const add = page.getByRole("dialog");
    await add.getByLabel("Name *").fill("Grace Hopper");
    await add.getByLabel("Phone").fill("(415) 555-2671");
    await add.getByLabel("Time zone").fill("America/New_York");
    await add.getByRole("button", { name: "Save" }).click();
    await toast(page, "Grace Hopper added").waitFor();
    await page.getByRole("heading", { name: "Grace Hopper" }).waitFor();
    await page.getByText("No messages yet.").waitFor();

    await page.getByRole("button", { name: "Schedule message" }).click();
    const dialog = page.getByRole("dialog", { name: "Schedule message" });
    await dialog.waitFor();
    // SMS is chosen; WhatsApp is offered but says why it can't be used.
    assert.equal(await dialog.locator("#message-channel-sms").isChecked(), true);
    assert.equal(await dialog.locator("#message-channel-whatsapp").isDisabled(), true);
    await dialog.getByText("No WhatsApp number on file.").waitFor();

    const counter = dialog.locator("#field-body-counter");
    assert.equal(await counter.innerText(), "0 characters · 0 SMS parts · GSM-7");
    await dialog.getByLabel("Message *").fill("a".repeat(161));
    await counter.filter({ hasText: "161 characters · 2 SMS parts · GSM-7" }).waitFor();
    const text = "Hi Grace, your order is ready.";
    await dialog.getByLabel("Message *").fill(text);
    await counter.filter({ hasText: "30 characters · 1 SMS part · GSM-7" }).waitFor();
    // A character outside GSM-7 switches the whole text to UCS-2; the emoji counts as one.
    await dialog.getByLabel("Message *").press("End");
    await dialog.getByLabel("Message *").pressSequentially(" 🙂");
    await counter.filter({ hasText: "32 characters · 1 SMS part · UCS-2" }).waitFor();
    assert.doesNotMatch(await counter.getAttribute("class"), /text-danger/, "within the limit");
    const body = `${text} 🙂`;

    // An hour from now, on the customer's clock.
    const sendAt = Math.ceil((Date.now() + HOUR) / 60_000) * 60_000;
    const there = wallTime("America/New_York", sendAt);
    await dialog.locator("#field-send_at").fill(there.date);
    await dialog.locator("#field-send_at-time").fill(there.time);
    const here = await inTheBrowser(page, sendAt);
    await dialog.getByText(`In the customer's time zone (America/New_York). That is ${here.dateTime} your time.`).waitFor();
    await page.screenshot({ path: `${artifacts}/message-schedule-form.png` });

    await dialog.getByRole("button", { name: "Schedule", exact: true }).click();
    await toast(page, "Message scheduled.").waitFor();
    await dialog.waitFor({ state: "detached" });
    const row = messageRow(page, body);
    await row.waitFor();
    assert.deepEqual(
      (await row.locator("td").allInnerTexts()).slice(0, 4),
      [here.dateTime, "SMS", body, "Scheduled"],
      "the send time is shown on the browser's clock",
    );
    await page.getByText("1 of 1 shown. Times are in your time zone.").waitFor();
    await page.screenshot({ path: `${artifacts}/message-scheduled-customer.png`, fullPage: true });

    await page.getByRole("link", { name: "Messages" }).click();
    await page.getByRole("heading", { name: "Messages", level: 1 }).waitFor();
    assert.equal(await page.locator("#messages-status option:checked").innerText(), "Upcoming");
    const day = page.getByRole("heading", { name: here.heading, exact: true, level: 2 });
    await day.waitFor();
    const listed = day.locator("xpath=following-sibling::div[1]").locator("tbody tr");
    assert.deepEqual(await listed.first().locator("td").allInnerTexts(), [here.clock, "Grace Hopper", "SMS", body, "Scheduled"]);
    assert.equal(await listed.count(), 1);
    // The customer's name leads back to their page.
    await listed.getByRole("link", { name: "Grace Hopper" }).waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.done("message-scheduled-agenda");
  }
});

test("a scheduled message is canceled after confirming", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    const customer = await openCustomer(page, s.server.url);
    const body = "See you on Friday at 10.";
    const scheduled = await api(page, "POST", `/customers/${customer.id}/messages`, {
      channel: "sms", body, send_at: new Date(Date.now() + 2 * HOUR).toISOString(),
    });
    assert.equal(scheduled.status, 201, JSON.stringify(scheduled.body));
    await page.reload();
    const row = messageRow(page, body);
    await row.getByText("Scheduled", { exact: true }).waitFor();

    // Saying no to the question changes nothing.
    const cancels = [];
    page.on("request", (r) => r.url().endsWith("/cancel") && cancels.push(r.url()));
    const asked = [];
    page.once("dialog", (d) => { asked.push(d.message()); d.dismiss(); });
    await row.getByRole("button", { name: "Cancel" }).click();
    await page.waitForTimeout(500);
    assert.deepEqual(asked, ["Cancel this message? It will not be sent."]);
    assert.deepEqual(cancels, [], "nothing sent to the server");
    await row.getByText("Scheduled", { exact: true }).waitFor();

    page.once("dialog", (d) => d.accept());
    await row.getByRole("button", { name: "Cancel" }).click();
    await toast(page, "Message canceled.").waitFor();
    await row.getByText("Canceled", { exact: true }).waitFor();
    assert.equal(await row.getByRole("button").count(), 0, "nothing left to edit or cancel");
    const stored = await api(page, "GET", `/messages/${scheduled.body.id}`);
    assert.equal(stored.body.status, "canceled");
    await page.screenshot({ path: `${artifacts}/message-canceled-customer.png`, fullPage: true });

    // Gone from what is still to be sent; there under Canceled.
    await page.getByRole("link", { name: "Messages" }).click();
    await page.getByText("No messages here.").waitFor();
    await page.getByLabel("Status").selectOption("canceled");
    const listed = page.locator("tbody tr", { hasText: body });
    await listed.getByText("Canceled", { exact: true }).waitFor();
    await listed.getByRole("link", { name: "Grace Hopper" }).waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.done("message-canceled-agenda");
  }
});

test("a message sent by the worker turns sent without a reload", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    await openCustomer(page, s.server.url);
    await page.evaluate(() => { window.sameDocument = true; });

    await page.getByRole("button", { name: "Schedule message" }).click();
    const dialog = page.getByRole("dialog", { name: "Schedule message" });
    const body = "Your parcel is on its way.";
    await dialog.getByLabel("Message *").fill(body);
    await dialog.getByLabel("Send now").check();
    assert.equal(await dialog.locator("#field-send_at").isDisabled(), true, "no time to choose");
    await dialog.getByRole("button", { name: "Send now" }).click();
    await toast(page, "Message scheduled.").waitFor();
    const row = messageRow(page, body);
    // No worker runs yet, so the page shows the message waiting.
    await row.getByText("Scheduled", { exact: true }).waitFor();

    // The worker sends it; the page asks again every 5 seconds while it is on its way.
    const worker = await s.startWorker({ MESSAGE_PROVIDER: "log", WORKER_POLL_MS: "200", RECONCILE_SECS: "1" });
    await row.getByText("Sent", { exact: true }).waitFor({ timeout: 15_000 });
    assert.equal(await page.evaluate(() => window.sameDocument), true, "the page was not reloaded");
    assert.equal(await row.getByRole("button").count(), 0, "a sent message can't be changed");
    assert.match(worker.output(), /message \(log provider\).*\+14155552671/);
    assert.deepEqual(s.errors, []);
  } finally {
    await s.done("message-sent-by-worker");
  }
});

test("a field error appears under the message box", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    const customer = await openCustomer(page, s.server.url);
    const posts = [];
    page.on("request", (r) => r.method() === "POST" && r.url().includes("/messages") && posts.push(r.url()));

    await page.getByRole("button", { name: "Schedule message" }).click();
    const dialog = page.getByRole("dialog", { name: "Schedule message" });
    await dialog.getByRole("button", { name: "Schedule", exact: true }).click();
    await dialog.locator("#field-body.is-invalid").waitFor();
    assert.equal(await dialog.locator("#field-body-error").innerText(), "Write the message.");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "field-body");
    // Nothing was sent or saved; the form stays open.
    assert.deepEqual(posts, []);
    const stored = await api(page, "GET", `/customers/${customer.id}/messages`);
    assert.equal(stored.body.total, 0);
    await dialog.waitFor();
    await page.getByText("No messages yet.").waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.done("message-field-error");
  }
});
