// Reminders in a real browser: set on a scheduled message from the customer page, falling due
// while the page stays open (bell count and toast, no reload), snoozed from the bell.
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
