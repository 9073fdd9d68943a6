// The web client in a real browser (headless Debian Chromium) against a real haven-server
// started by this file. Run: node --test web_client.test.mjs
//   HAVEN_SERVER          haven-server binary (default ../../build/haven-server)
//   HAVEN_WEB_DIST        built client (default ../../client-web/dist)
//   HAVEN_E2E_SCREENSHOTS where the screenshots go (default ../../build/e2e-screenshots)
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP, PHONE, Participant, launchBrowser, screenshotDir } from "./support/browser.mjs";
import { HavenServer, freePort } from "./support/server.mjs";

const ROOMS = [
  { id: "lobby", title: "Drop-in lounge", topic: "Come as you are. Say hello, share how you are, or just sit with others a while.", kind: "drop_in", capacity: 200 },
  { id: "anxiety-support", title: "Anxiety support", topic: "A patient space to talk about worry, panic and stress, and what helps you cope.", kind: "group", capacity: 100 },
  { id: "grief-and-loss", title: "Grief and loss", topic: "For anyone living with a loss, recent or long ago. There is no right way to grieve.", kind: "group", capacity: 100 },
  { id: "long-room", title: "Long conversation", topic: "Where the tests write a lot.", kind: "drop_in", capacity: 100 },
  {
    id: "evening-circle", title: "Evening circle", topic: "A gently hosted gathering.", kind: "meeting", capacity: 12,
    // Written as TOML as it stands (an inline table).
    agreements: { toString: () => '{ version = "1", text = "What is shared here stays here.\\nAnyone may pass." }' },
  },
];
const LOBBY = ["Drop-in lounge", "lobby"];

let server;
let browser;
let alice;
let bob;

before(async () => {
  server = new HavenServer({
    port: await freePort(),
    rooms: ROOMS,
    // Generous enough for the long-room test to write 340 posts quickly.
    limits: { posts_per_second: 500.0, post_burst: 500 },
  });
  await server.start();
  browser = await launchBrowser();
  console.log(`# haven-server on ${server.url}, screenshots in ${screenshotDir}`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

test("(a) two participants see each other live: posts, typing, members", async () => {
  alice = await Participant.enter(browser, server.url, "Alice", { screenshot: "01-entry-desktop" });
  await alice.page.locator(".room-card").first().waitFor();
  await alice.shot("02-rooms-desktop");
  await alice.join(...LOBBY);
  bob = await Participant.enter(browser, server.url, "Bob");
  await bob.join(...LOBBY);

  // Both appear in both member lists.
  await alice.memberLocator("Bob").waitFor({ state: "attached" });
  await bob.memberLocator("Alice").waitFor({ state: "attached" });

  // Typing (not yet sent) shows on the other side.
  await alice.page.locator("#composer-text").pressSequentially("Hello Bob", { delay: 10 });
  await bob.page.locator(".typing", { hasText: "Alice is typing…" }).waitFor();
  await bob.shot("03-typing-desktop");
  await alice.page.locator("#composer-text").press("Enter");
  await bob.waitForMessage("Hello Bob");
  await bob.page.locator(".typing", { hasText: "Alice is typing" }).waitFor({ state: "detached" }).catch(() => {});
  assert.equal(await bob.page.locator(".typing").textContent(), "");

  await bob.post("Hi Alice, good to see you here.");
  await alice.waitForMessage("Hi Alice, good to see you here.");
  await alice.waitForMessage("Hello Bob");
  assert.equal(await alice.count("Hello Bob"), 1);
  await alice.shot("04-conversation-desktop");

  // Bob's message is marked as his own on his side only.
  assert.equal(await bob.message("Hi Alice, good to see you here.").locator(".msg-author").textContent(), "Bob (you)");
  assert.equal(await alice.message("Hi Alice, good to see you here.").locator(".msg-author").textContent(), "Bob");
});

test("(b) a post with a content warning stays folded for others until revealed", async () => {
  const page = alice.page;
  await page.getByRole("button", { name: "Add content warning" }).click();
  await page.locator("#cw-input").fill("loss");
  await alice.post("My dog died last week and the house feels so quiet.");
  const text = "My dog died last week and the house feels so quiet.";

  const mine = await alice.waitForMessage(text);
  assert.equal(await mine.locator(".cw-label").textContent(), "Content warning: loss");
  assert.equal(await mine.locator(".msg-text").isVisible(), true, "the author sees their own text");

  const theirs = await bob.waitForMessage(text);
  assert.equal(await theirs.locator(".cw-label").textContent(), "Content warning: loss");
  assert.equal(await theirs.locator(".msg-text").isVisible(), false, "folded for others");
  const toggle = theirs.getByRole("button", { name: "Show message" });
  assert.equal(await toggle.getAttribute("aria-expanded"), "false");
  await bob.shot("05-content-warning-folded-desktop");
  assert.deepEqual(await bob.contrastProblems(), [], "text contrast meets WCAG AA");
  await toggle.click();
  assert.equal(await theirs.locator(".msg-text").isVisible(), true, "revealed on request");
  assert.equal(await theirs.getByRole("button", { name: "Hide message" }).getAttribute("aria-expanded"), "true");
  await bob.shot("06-content-warning-open-desktop");
});

test("(c1) a dropped connection comes back and recovers what it missed, once", async () => {
  const joinsBefore = bob.joinsSent("lobby").length;
  await bob.context.setOffline(true);
  await bob.waitForConnection(["offline", "waiting", "connecting"]);
  await bob.shot("07-offline-desktop");

  const missed = ["While you were away 1", "While you were away 2", "While you were away 3"];
  for (const text of missed) await alice.post(text);
  for (const text of missed) await alice.waitForMessage(text);
  // Bob writes while offline: it waits, then goes out after the reconnect.
  await bob.post("Written while offline");
  await bob.message("Written while offline").locator(".msg-status", { hasText: "Waiting to send" }).waitFor();

  await bob.context.setOffline(false);
  await bob.waitForConnection(["restored", "open"]);
  for (const text of missed) await bob.waitForMessage(text);
  for (const text of missed) assert.equal(await bob.count(text), 1, `"${text}" shown exactly once`);
  assert.equal(await bob.count("Hello Bob"), 1, "nothing seen before is duplicated");
  await alice.waitForMessage("Written while offline");
  assert.equal(await alice.count("Written while offline"), 1);
  await bob.waitForMessage("Written while offline");
  assert.equal(await bob.count("Written while offline"), 1);

  // It recovered with since_seq (the last sequence number it had seen), not a fresh join.
  const rejoin = bob.joinsSent("lobby").slice(joinsBefore);
  assert.ok(rejoin.length >= 1, "Bob joined the room again");
  assert.ok(rejoin.every((join) => join.sinceSeq > 0), `rejoined with since_seq: ${JSON.stringify(rejoin)}`);
  await bob.shot("08-recovered-desktop");
});

test("(c2) after a server restart both reconnect by themselves, nothing acknowledged is lost", async () => {
  const acked = ["Hello Bob", "Hi Alice, good to see you here.", "While you were away 1", "Written while offline"];
  await server.stop();
  await alice.waitForConnection(["waiting", "connecting", "offline"]);
  await bob.waitForConnection(["waiting", "connecting", "offline"]);

  // Written while the server is down: kept, and delivered after the reconnect.
  await alice.post("Typed while the server was away");
  await alice.message("Typed while the server was away").locator(".msg-status", { hasText: "Waiting to send" }).waitFor();
  await alice.shot("09-server-away-desktop");
  assert.deepEqual(await alice.contrastProblems(), [], "text contrast meets WCAG AA while reconnecting");

  await server.start();
  await alice.waitForConnection(["restored", "open"], 30_000);
  await bob.waitForConnection(["restored", "open"], 30_000);
  await alice.waitForHandle("Alice");  // same guest identity thanks to the guest pass
  await bob.waitForMessage("Typed while the server was away");
  await alice.waitForMessage("Typed while the server was away");
  assert.equal(await bob.count("Typed while the server was away"), 1);
  assert.equal(await alice.count("Typed while the server was away"), 1);

  for (const who of [alice, bob]) {
    // The in-memory history restarted with the server: said quietly, old messages kept.
    await who.page.locator(".notice", { hasText: "The room restarted on the server" }).waitFor({ state: "attached" });
    for (const text of acked) assert.equal(await who.count(text), 1, `${who.handle} still sees "${text}" once`);
  }

  await bob.post("We're back together.");
  await alice.waitForMessage("We're back together.");
  await alice.post("So we are.");
  await bob.waitForMessage("So we are.");
  await alice.memberLocator("Bob").waitFor({ state: "attached" });
  await bob.memberLocator("Alice").waitFor({ state: "attached" });
  await alice.shot("10-after-restart-desktop");
  // The resent post kept its client message id.
  const resent = alice.postsSent().filter((p) => p.text === "Typed while the server was away");
  assert.ok(resent.length >= 1);
  assert.equal(new Set(resent.map((p) => p.clientMsgId)).size, 1);
});

test("(d) keyboard only: enter, join a room and send a message", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const carol = new Participant(context, page, "Carol");
  await page.goto(server.url);
  await page.locator("#handle").waitFor();
  // The handle field has focus on arrival.
  assert.equal(await page.evaluate(() => document.activeElement?.id), "handle");
  await page.keyboard.type("Carol");
  await page.keyboard.press("Enter");
  await carol.waitForHandle("Carol");
  await page.locator(".room-card").first().waitFor();

  const target = "Join Anxiety support";
  let found = false;
  for (let i = 0; i < 30 && !found; i += 1) {
    await page.keyboard.press("Tab");
    found = (await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))) === target;
  }
  assert.ok(found, "reached the Join button with Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none", "focus is visible");
  await carol.shot("11-keyboard-focus-desktop");
  await page.keyboard.press("Enter");
  await carol.waitJoined("anxiety-support");
  // Focus moves to the message box after joining.
  await page.waitForFunction(() => document.activeElement?.id === "composer-text");
  await page.keyboard.type("First line");
  await page.keyboard.press("Shift+Enter");
  await page.keyboard.type("second line");
  await page.keyboard.press("Enter");
  await carol.waitForMessage("First line\nsecond line");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "composer-text", "focus stays in the message box");
  await carol.shot("12-keyboard-sent-desktop");
  await carol.close();
});

test("(e) a 375 px phone: no horizontal scrolling on any view", async () => {
  const dave = await Participant.enter(browser, server.url, "Dave", { viewport: PHONE, screenshot: "13-entry-phone" });
  assert.equal(await dave.hasHorizontalScroll(), false, "entry");
  await dave.page.locator(".room-card").first().waitFor();
  assert.equal(await dave.hasHorizontalScroll(), false, "room list");
  await dave.shot("14-rooms-phone");
  await dave.join(...LOBBY);
  await dave.waitForMessage("So we are.");
  await dave.post(`A long word that must wrap: ${"x".repeat(120)}`);
  await dave.waitForMessage(`A long word that must wrap: ${"x".repeat(120)}`);
  await bob.waitForMessage(`A long word that must wrap: ${"x".repeat(120)}`);
  assert.equal(await dave.hasHorizontalScroll(), false, "conversation");
  const messageBox = await dave.page.locator("#composer-text").boundingBox();
  assert.ok(messageBox && messageBox.x >= 0 && messageBox.x + messageBox.width <= PHONE.width, "message box fits");
  await dave.shot("15-room-phone");
  // Back to the list and into the room again: it opens at the newest message.
  await dave.page.getByRole("button", { name: "Rooms" }).click();
  await dave.page.getByRole("button", { name: "Open Drop-in lounge" }).click();
  const newest = dave.message(`A long word that must wrap: ${"x".repeat(120)}`);
  await newest.waitFor();
  const [messageBox2, scroller] = [await newest.boundingBox(), await dave.page.locator(".scroller").boundingBox()];
  assert.ok(messageBox2.y + messageBox2.height <= scroller.y + scroller.height + 1, "newest message in view");
  await dave.page.getByRole("button", { name: "People" }).click();
  await dave.memberLocator("Alice").waitFor();
  assert.equal(await dave.hasHorizontalScroll(), false, "people list");
  await dave.shot("16-people-phone");
  assert.deepEqual(await dave.contrastProblems(), [], "text contrast meets WCAG AA on the phone");
  await dave.page.getByRole("button", { name: "Leave room" }).click();
  await dave.page.locator(".room-card").first().waitFor();
  await bob.memberLocator("Dave").waitFor({ state: "detached" });
  await dave.close();
});

test("long rooms keep the DOM bounded and page back with history requests", async () => {
  const eve = await Participant.enter(browser, server.url, "Eve");
  await eve.join("Long conversation", "long-room");
  const total = 340;
  await eve.page.evaluate((count) => {
    const box = document.querySelector("#composer-text");
    const form = box.closest("form");
    for (let i = 1; i <= count; i += 1) {
      box.value = `Long message ${i}`;
      form.requestSubmit();
    }
  }, total);
  await eve.waitForMessage(`Long message ${total}`);
  await eve.page.waitForFunction(() => document.querySelectorAll(".msg:not([data-seq])").length === 0, null, { timeout: 20_000 });
  const rendered = await eve.page.locator(".messages > li").count();
  assert.ok(rendered <= 300, `at most 300 messages in the page (got ${rendered})`);
  assert.equal(await eve.count("Long message 1"), 0, "the oldest are not drawn");
  // Going back through what the page already holds keeps the page bounded too.
  await eve.page.getByRole("button", { name: "Load earlier messages" }).click();
  await eve.waitForMessage("Long message 1");
  assert.ok(await eve.page.locator(".messages > li").count() <= 300);
  assert.equal(await eve.count(`Long message ${total}`), 0);
  await eve.page.getByRole("button", { name: "Show newest messages" }).click();
  await eve.waitForMessage(`Long message ${total}`);
  assert.ok(await eve.page.locator(".messages > li").count() <= 300);

  const frank = await Participant.enter(browser, server.url, "Frank");
  await frank.join("Long conversation", "long-room");
  await frank.waitForMessage(`Long message ${total}`);
  assert.equal(await frank.count("Long message 280"), 0, "only the recent tail on joining");
  await frank.page.getByRole("button", { name: "Load earlier messages" }).click();
  await frank.waitForMessage("Long message 280");
  const history = frank.sent.filter((m) => m.body === "history");
  assert.equal(history.length, 1);
  assert.ok(history[0].history.beforeSeq > 0, "paged with before_seq");
  await frank.shot("17-long-room-desktop");
  await eve.close();
  await frank.close();
});

test("(f) sending quickly: a kind note, then every post goes out once, in order", async () => {
  const strict = new HavenServer({ port: await freePort(), rooms: ROOMS.slice(0, 1), limits: { posts_per_second: 4.0, post_burst: 3 } });
  await strict.start();
  try {
    const gina = await Participant.enter(browser, strict.url, "Gina");
    await gina.join(...LOBBY);
    const texts = Array.from({ length: 8 }, (_, i) => `Quick thought ${i + 1}`);
    await gina.page.evaluate((list) => {
      const box = document.querySelector("#composer-text");
      for (const text of list) {
        box.value = text;
        box.closest("form").requestSubmit();
      }
    }, texts);
    await gina.page.locator(".msg-problem", { hasText: "You're sending quickly" }).first().waitFor();
    await gina.shot("18-rate-limited-desktop");
    await gina.page.waitForFunction(() => document.querySelectorAll(".msg[data-seq]").length === 8, null, { timeout: 15_000 });
    assert.deepEqual(await gina.page.locator(".msg .msg-text").allTextContents(), texts, "each once, in the order written");
    const seqs = await gina.page.locator(".msg[data-seq]").evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(gina.errors, []);
    await gina.close();
  } finally {
    await strict.stop();
    strict.cleanup();
  }
});

test("(g) when history no longer reaches back, a quiet notice replaces the list", async () => {
  const short = new HavenServer({ port: await freePort(), rooms: ROOMS.slice(0, 1), history: { max_events: 5, join_events: 5 } });
  await short.start();
  try {
    const ivy = await Participant.enter(browser, short.url, "Ivy");
    await ivy.join(...LOBBY);
    const jo = await Participant.enter(browser, short.url, "Jo");
    await jo.join(...LOBBY);
    await ivy.post("Before the gap");
    await jo.waitForMessage("Before the gap");
    await jo.context.setOffline(true);
    await jo.waitForConnection(["offline", "waiting", "connecting"]);
    for (let i = 1; i <= 8; i += 1) await ivy.post(`Gap message ${i}`);
    await ivy.waitForMessage("Gap message 8");
    await jo.context.setOffline(false);
    await jo.page.locator(".notice", { hasText: "Some earlier messages are no longer available." }).waitFor();
    await jo.waitForMessage("Gap message 8");
    assert.equal(await jo.count("Before the gap"), 0, "the list was replaced");
    assert.deepEqual(await jo.page.locator(".msg .msg-text").allTextContents(),
      ["Gap message 4", "Gap message 5", "Gap message 6", "Gap message 7", "Gap message 8"]);
    await jo.shot("21-history-gap-desktop");
    await ivy.close();
    await jo.close();
  } finally {
    await short.stop();
    short.cleanup();
  }
});

test("(h) reloading the page keeps the same guest, rooms and own posts", async () => {
  await bob.page.reload();
  await bob.waitForHandle("Bob");
  await bob.waitJoined("lobby");
  await bob.waitForMessage("So we are.");
  assert.equal(await bob.message("We're back together.").locator(".msg-author").textContent(), "Bob (you)");
  await alice.memberLocator("Bob").waitFor({ state: "attached" });
});

test("(i) a refused token leads back to the entry with a kind explanation (dark mode)", async () => {
  const context = await browser.newContext({ viewport: DESKTOP, colorScheme: "dark" });
  const page = await context.newPage();
  const hal = new Participant(context, page, "Hal");
  await page.goto(server.url);
  await page.getByText("I have a sign-in token").click();
  await page.getByLabel("Sign-in token").fill("not-a-real-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".entry-problem", { hasText: "We couldn't sign you in with that token" }).waitFor();
  assert.deepEqual(await hal.contrastProblems(), [], "text contrast meets WCAG AA in dark mode");
  await hal.shot("19-token-refused-dark");
  await page.locator("#handle").fill("Hal");
  await page.getByRole("button", { name: "Enter as a guest" }).click();
  await hal.waitForHandle("Hal");
  assert.equal(await hal.connection(), "open", "a first connection is not announced as a reconnection");
  await hal.join("Grief and loss", "grief-and-loss");
  await page.locator(".empty-room").waitFor();
  assert.deepEqual(await hal.contrastProblems(), [], "text contrast meets WCAG AA in dark mode");
  await hal.shot("20-empty-room-dark");
  assert.deepEqual(hal.errors, []);
  await hal.close();
});

test("(j) a meeting's agreements are shown before joining, and joining waits for I agree", async () => {
  const page = alice.page;
  await page.getByRole("button", { name: "Join Evening circle" }).click();
  const dialog = page.getByRole("dialog", { name: "Before you join Evening circle" });
  await dialog.waitFor();
  await dialog.getByText("What is shared here stays here.").waitFor();
  await dialog.getByText("Anyone may pass.").waitFor();
  await alice.shot("15-meeting-agreements");
  // "Not now" leaves the person outside, with nothing else happening.
  await dialog.getByRole("button", { name: "Not now" }).click();
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.locator('.room[data-room="evening-circle"]').count(), 0);
  await page.getByRole("button", { name: "Join Evening circle" }).click();
  await page.getByRole("dialog", { name: "Before you join Evening circle" }).getByRole("button", { name: "I agree, join" }).click();
  await alice.waitJoined("evening-circle");
  await alice.post("Glad to be here tonight.");
  await alice.waitForMessage("Glad to be here tonight.");
});

test("no script errors in the pages", async () => {
  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
  await alice.close();
  await bob.close();
});

// Moderation (flags, the moderator's queue and audit log, crisis resources, held posts, bans)
// runs against its own server; imported last so its tests run after these.
await import("./moderation.mjs");
