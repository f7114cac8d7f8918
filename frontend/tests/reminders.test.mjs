// Reminders in a real browser: set on a scheduled message from the customer page, falling due
// while the page stays open (bell count and toast, no reload), snoozed from the bell; a free
// reminder set, edited and refused an empty note through the customer page's form.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, signedIn } from "./harness.mjs";

const toast = (page, text) => page.locator(".toast", { hasText: text });

test("a reminder at a message's send time rings the bell and toasts on an open page, then is snoozed", async () => {
  const s = await signedIn();
  try {
    const { page } = s;
    const url = s.server.url;
    const customer = await api(page, "POST", "/customers", { name: "Grace Hopper", phone: "+14155552671" });
    assert.equal(customer.status, 201, JSON.stringify(customer.body));
    // Due in 8 s: time to set the reminder through the page before it falls due.
    const sendAt = new Date(Date.now() + 8_000).toISOString();
    const message = await api(page, "POST", `/customers/${customer.body.id}/messages`, {
      channel: "sms", body: "Your order is ready for collection.", send_at: sendAt,
    });
    assert.equal(message.status, 201, JSON.stringify(message.body));

    await page.goto(`${url}/customers/${customer.body.id}`);
    await page.getByRole("heading", { name: "Grace Hopper" }).waitFor();
    assert.equal(await page.locator("#reminder-count").isHidden(), true, "no reminder is due yet");
    await page.locator("button.message-remind").first().click();
    await toast(page, "Reminder set").waitFor();
    await page.locator("#customer-reminders li").first().waitFor();

    // It falls due while the page stays open: the bell counts it and a toast says so.
    const loaded = await page.evaluate(() => performance.timeOrigin);
    await page.locator("#reminder-count", { hasText: "1" }).waitFor({ timeout: 20_000 });
    await toast(page, "Reminder: Your order is ready").waitFor();
    const dueAt = Date.now();
    assert.ok(dueAt - Date.parse(sendAt) < 5_000, `the bell rang ${dueAt - Date.parse(sendAt)} ms after the time`);
    assert.equal(await page.evaluate(() => performance.timeOrigin), loaded, "no reload");

    // Snoozed from the bell's list: it leaves the due list and the count.
    await page.locator("#reminder-bell").click();
    const item = page.locator("#due-reminders li.bell-reminder").first();
    await item.getByText("Grace Hopper").waitFor();
    await item.locator('button.reminder-snooze[data-snooze="10m"]').click();
    await toast(page, "Reminder snoozed").waitFor();
    await page.locator("#reminder-count").waitFor({ state: "hidden" });
    const due = await api(page, "GET", "/reminders?state=due");
    assert.equal(due.body.total, 0);
    const upcoming = await api(page, "GET", "/reminders?state=upcoming");
    assert.equal(upcoming.body.total, 1);
    assert.deepEqual(s.errors, []);
  } finally {
    await s.done("reminder-due-and-snoozed");
  }
});

test("a free reminder is set and edited through the customer page, and an empty note shows the server's error", async () => {
  const s = await signedIn({ context: { timezoneId: "Europe/Berlin" } });
  try {
    const { page } = s;
    const customer = await api(page, "POST", "/customers", { name: "Grace Hopper", phone: "+14155552671" });
    assert.equal(customer.status, 201, JSON.stringify(customer.body));
    await page.goto(`${s.server.url}/customers/${customer.body.id}`);
    await page.getByRole("heading", { name: "Grace Hopper" }).waitFor();
    await page.locator("#no-customer-reminders").waitFor();

    // Set through "Remind me": a note and a time an hour ahead on the user's (the browser's) clock.
    const wanted = Date.now() + 60 * 60_000;
    const at = await page.evaluate((millis) => {
      const d = new Date(millis);
      const p = (n) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }, wanted);
    await page.locator("#remind-me").click();
    let dialog = page.getByRole("dialog");
    await dialog.getByRole("heading", { name: "Remind me" }).waitFor();
    await dialog.locator("#reminder-zone", { hasText: "Europe/Berlin" }).waitFor();
    await dialog.getByLabel("Note").fill("Call back about the repair");
    await dialog.getByLabel("When").fill(at);
    await dialog.getByRole("button", { name: "Save reminder" }).click();
    await toast(page, "Reminder set for").waitFor();
    await dialog.waitFor({ state: "detached" });
    const row = page.locator("#customer-reminders li");
    await row.filter({ hasText: "Call back about the repair" }).waitFor();
    const set = await api(page, "GET", `/reminders?state=upcoming&customer_id=${customer.body.id}`);
    assert.equal(set.body.total, 1, JSON.stringify(set.body));
    const reminder = set.body.items[0];
    assert.equal(reminder.note, "Call back about the repair");
    assert.ok(Math.abs(Date.parse(reminder.remind_at) - wanted) < 60_000, `set for ${reminder.remind_at}`);

    // Edited: the form opens with the note and the time as set; a new note is saved and shown.
    await row.locator("button.reminder-edit").click();
    dialog = page.getByRole("dialog");
    await dialog.getByRole("heading", { name: "Edit reminder" }).waitFor();
    assert.equal(await dialog.getByLabel("Note").inputValue(), "Call back about the repair");
    assert.equal(await dialog.getByLabel("When").inputValue(), at);
    await dialog.getByLabel("Note").fill("Call back after 14:00");
    await dialog.getByRole("button", { name: "Save reminder" }).click();
    await toast(page, "Reminder updated.").waitFor();
    await dialog.waitFor({ state: "detached" });
    await row.filter({ hasText: "Call back after 14:00" }).waitFor();
    assert.equal(await row.filter({ hasText: "Call back about the repair" }).count(), 0, "the old note is gone");
    const edited = await api(page, "GET", `/reminders/${reminder.id}`);
    assert.equal(edited.body.note, "Call back after 14:00");
    assert.equal(edited.body.remind_at, reminder.remind_at, "the time stays as it was");

    // An empty note, on a reminder about no message: the server's words under the note field.
    const refused = await api(page, "PATCH", `/reminders/${reminder.id}`, { note: "" });
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    const said = refused.body.errors.note[0];
    await row.locator("button.reminder-edit").click();
    dialog = page.getByRole("dialog");
    await dialog.getByRole("heading", { name: "Edit reminder" }).waitFor();
    await dialog.getByLabel("Note").fill("");
    await dialog.getByRole("button", { name: "Save reminder" }).click();
    await page.locator("#field-note-error", { hasText: said }).waitFor();
    assert.equal(await dialog.getByLabel("Note").getAttribute("aria-invalid"), "true");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    const kept = await api(page, "GET", `/reminders/${reminder.id}`);
    assert.equal(kept.body.note, "Call back after 14:00");

    // The Reminders page lists it with the new note, and offers Edit there too.
    await page.goto(`${s.server.url}/reminders?state=upcoming`);
    const listed = page.locator(`#reminder-${reminder.id}`);
    await listed.filter({ hasText: "Call back after 14:00" }).waitFor();
    await listed.locator("button.reminder-edit").waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.done("reminder-set-and-edited");
  }
});
