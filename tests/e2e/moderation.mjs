// Moderation in the web client, in headless Chromium against a real haven-server that signs
// in a moderator with a token this file mints itself (HS256), scans posts with the crisis
// phrase lists of config/crisis, and holds crisis-language posts in one room for review.
// web_client.test.mjs imports this file, so `node --test web_client.test.mjs` (and ctest) run
// it too; alone: node --test moderation.mjs
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DESKTOP, PHONE, Participant, launchBrowser } from "./support/browser.mjs";
import { HavenServer, freePort, mintToken, repoRoot } from "./support/server.mjs";

const SECRET = "haven-e2e-jwt-secret-not-for-production-0123456789";
const ROOMS = [
  { id: "lobby", title: "Drop-in lounge", topic: "Come as you are. Say hello, share how you are, or just sit with others a while.", kind: "drop_in", capacity: 200 },
  { id: "evening-circle", title: "Evening circle", topic: "A small, gently hosted gathering to reflect on the day together.", kind: "meeting", capacity: 12, crisis_policy: "hold" },
];
const LOBBY = ["Drop-in lounge", "lobby"];
const CIRCLE = ["Evening circle", "evening-circle"];
const SUPPORT_TITLE = "You don't have to go through this alone";

describe("moderation", () => {
  let server;
  let browser;
  let nia;
  let oscar;
  let sam;  // the moderator

  const openQueue = async () => {
    await sam.page.getByRole("button", { name: /^Moderation/ }).click();
    await sam.page.getByRole("heading", { name: "Moderation", level: 2 }).waitFor();
  };
  const openLobby = (who) => who.page.getByRole("button", { name: "Open Drop-in lounge" }).click();
  /** Acts on a member from the moderator's member list of the open room. */
  const moderateMember = async (handle, choice, { duration, reason, shot } = {}) => {
    await sam.page.getByRole("button", { name: `Moderate ${handle}` }).click();
    const dialog = sam.page.getByRole("dialog", { name: `Moderate ${handle}` });
    await dialog.getByLabel(choice).check();
    if (duration) await dialog.getByLabel("For how long").selectOption({ label: duration });
    if (reason) await dialog.getByLabel("Reason", { exact: true }).fill(reason);
    if (shot) await sam.shot(shot);
    await dialog.locator("button[type=submit]").click();
    await dialog.waitFor({ state: "detached" });
  };

  before(async () => {
    server = new HavenServer({
      port: await freePort(),
      rooms: ROOMS,
      limits: { posts_per_second: 50.0, post_burst: 50 },
      auth: { jwt_hs256_secret: SECRET },
      moderation: { crisis_dir: join(repoRoot, "config", "crisis") },
      safety: { followup_grace_seconds: 1 },
    });
    await server.start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  test("two participants and a moderator see each other live", async () => {
    nia = await Participant.enter(browser, server.url, "Nia");
    await nia.join(...LOBBY);
    oscar = await Participant.enter(browser, server.url, "Oscar");
    await oscar.join(...LOBBY);
    const token = mintToken(SECRET, { sub: "moderator-sam", name: "Sam", role: "moderator" });
    sam = await Participant.signIn(browser, server.url, token, "Sam");
    await sam.page.getByRole("button", { name: /^Moderation/ }).waitFor();
    assert.equal(await nia.page.getByRole("button", { name: /^Moderation/ }).isVisible(), false, "no moderator tools for participants");
    await sam.join(...LOBBY);

    await nia.post("Evening all. Rough day, but glad to be here.");
    await oscar.post("Welcome Nia, you're in good company.");
    await sam.post("Hi both, I'm Sam, one of tonight's moderators.");
    for (const who of [nia, oscar, sam]) {
      await who.waitForMessage("Evening all. Rough day, but glad to be here.");
      await who.waitForMessage("Welcome Nia, you're in good company.");
      await who.waitForMessage("Hi both, I'm Sam, one of tonight's moderators.");
    }
    assert.equal(await nia.message("Hi both, I'm Sam, one of tonight's moderators.").locator(".badge").textContent(), "Moderator");
    await nia.memberLocator("Sam").waitFor({ state: "attached" });
  });

  test("a flag reaches the moderator's queue; hiding the post removes it for both participants", async () => {
    const spam = "Make money fast: visit totally-legit-offers.example today!";
    await oscar.post(spam);
    const target = await nia.waitForMessage(spam);
    await sam.waitForMessage(spam);
    const seq = await target.getAttribute("data-seq");
    assert.equal(await oscar.message(spam).getByRole("button", { name: /^Flag/ }).count(), 0, "no flagging one's own post");

    // Keyboard: the dialog takes focus, Escape closes it and focus goes back to "Flag".
    const flag = target.getByRole("button", { name: /^Flag/ });
    await flag.focus();
    await nia.page.keyboard.press("Enter");
    const dialog = nia.page.getByRole("dialog", { name: "Flag this message for a moderator" });
    await dialog.waitFor();
    assert.equal(await nia.page.evaluate(() => Boolean(document.activeElement?.closest("dialog"))), true, "focus is in the dialog");
    await nia.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.equal(await nia.page.evaluate(() => document.activeElement?.classList.contains("action-flag")), true, "focus is back on Flag");

    await flag.click();
    await dialog.getByLabel("Spam or advertising").check();
    await dialog.getByLabel(/Anything a moderator should know/).fill("The same link was posted in other rooms too.");
    await nia.shot("30-flag-dialog-desktop");
    assert.deepEqual(await nia.contrastProblems(), [], "text contrast meets WCAG AA in the flag dialog");
    await dialog.getByRole("button", { name: "Send to moderators" }).click();
    await dialog.getByText("Thanks — a moderator will take a look.").waitFor();
    await nia.shot("31-flag-thanks-desktop");
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "detached" });
    await nia.message(spam).locator(".msg-note", { hasText: "You flagged this message" }).waitFor();

    // The moderator's live queue has it, with the reason and the note.
    await openQueue();
    const item = sam.page.locator(".queue-item", { hasText: spam });
    await item.waitFor();
    const text = await item.textContent();
    assert.match(text, /Flagged/);
    assert.match(text, /Spam or advertising/);
    assert.match(text, /The same link was posted in other rooms too\./);
    await sam.shot("32-moderation-queue-desktop");
    assert.deepEqual(await sam.contrastProblems(), [], "text contrast meets WCAG AA in the queue");

    await item.getByRole("button", { name: /^Hide post/ }).click();
    await item.waitFor({ state: "detached" });
    for (const who of [nia, oscar]) {
      await who.page.locator(`.msg-hidden[data-seq="${seq}"]`).waitFor();
      assert.equal(await who.count(spam), 0, `${who.handle} no longer sees the text`);
    }
    assert.equal(await nia.page.locator(`.msg-hidden[data-seq="${seq}"]`).textContent(), "This message was hidden by a moderator.");
    await nia.shot("33-hidden-placeholder-desktop");

    // Moderators still see it, marked, and can restore it: it comes back in its place.
    await openLobby(sam);
    const hidden = sam.message(spam);
    await hidden.locator(".hidden-mark").waitFor();
    await sam.shot("34-moderator-hidden-post-desktop");
    await hidden.getByRole("button", { name: /^Restore/ }).click();
    await nia.waitForMessage(spam);
    await oscar.waitForMessage(spam);
    const seqs = await nia.page.locator(".msg[data-seq]").evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "restored in sequence order");

    // After a reload the client no longer remembers the flag; the server does, kindly.
    await nia.page.reload();
    await nia.waitJoined("lobby");
    await (await nia.waitForMessage(spam)).getByRole("button", { name: /^Flag/ }).click();
    await dialog.getByLabel("Something else").check();
    await dialog.getByRole("button", { name: "Send to moderators" }).click();
    await dialog.getByText("You've already flagged this message.", { exact: false }).waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();

    // The audit log, newest first.
    await openQueue();
    await sam.page.getByRole("tab", { name: "Audit log" }).click();
    const entries = sam.page.locator(".audit-entry");
    for (let i = 0; i < 20 && (await entries.first().getAttribute("data-action").catch(() => null)) !== "restore_post"; i += 1) {
      await sam.page.waitForTimeout(100);
      await sam.page.getByRole("button", { name: "Refresh" }).click();
    }
    const actions = await entries.evaluateAll((els) => els.map((e) => e.dataset.action));
    assert.deepEqual(actions.slice(0, 3), ["restore_post", "hide_post", "flag"], `newest first: ${actions}`);
    assert.match(await entries.nth(1).textContent(), /Sam hid a post/);
    await sam.shot("35-audit-log-desktop");
    assert.deepEqual(await sam.contrastProblems(), [], "text contrast meets WCAG AA in the audit log");
  });

  test("crisis language: support lines for the author only, an urgent item for the moderator", async () => {
    await sam.page.getByRole("tab", { name: /^Queue/ }).click();
    const words = "Honestly, some nights I want to end my life.";
    await nia.post(words);
    const panel = nia.page.getByRole("region", { name: SUPPORT_TITLE });
    await panel.waitFor();
    assert.equal(await nia.page.evaluate(() => Boolean(document.activeElement?.closest(".crisis-panel"))), true, "focus moved to the panel");
    assert.equal(await panel.getByRole("link", { name: "Call 988" }).first().getAttribute("href"), "tel:988");
    assert.equal(await panel.getByRole("link", { name: "Call 116 123" }).getAttribute("href"), "tel:116123");
    // One field with several numbers: a link for each, never one run-together number.
    assert.equal(await panel.getByRole("link", { name: "Call 999" }).getAttribute("href"), "tel:999");
    assert.equal(await panel.getByRole("link", { name: "Call 112" }).getAttribute("href"), "tel:112");
    await panel.getByText("Text HOME to 741741").waitFor();
    await panel.getByText("Only you can see this.", { exact: false }).waitFor();
    // Sam moderates but is not on duty: the panel says no moderator is available, not that one
    // will reach out.
    await panel.getByText("No moderator is available right now.", { exact: false }).waitFor();
    assert.equal(await panel.locator(".crisis-human").getAttribute("data-on-duty"), "no");
    await nia.shot("36-crisis-panel-desktop");
    assert.deepEqual(await nia.contrastProblems(), [], "text contrast meets WCAG AA in the support panel");

    // Delivered (this room's policy), but the support lines are Nia's alone.
    await oscar.waitForMessage(words);
    assert.equal(await oscar.page.locator(".crisis-panel").count(), 0);
    assert.equal(await sam.page.locator(".crisis-panel").count(), 0);

    const urgent = sam.page.locator(".queue-item.urgent", { hasText: words });
    await urgent.waitFor();
    assert.equal(await sam.page.locator(".queue-item").first().getAttribute("data-item"), await urgent.getAttribute("data-item"), "urgent first");
    assert.match(await urgent.textContent(), /Crisis language/);
    assert.match(await urgent.textContent(), /Why: talk of suicide - rule en\/suicide\/\d+/);
    assert.match(await urgent.textContent(), /Matched words: "end my life"/);
    // The tab title counts the urgent items nobody has claimed; a chime sounded.
    assert.match(await sam.page.title(), /^\(1\) /, "the title counts the unclaimed urgent item");
    assert.ok(await sam.page.evaluate(() => (window.havenChimes ?? 0) >= 1), "a chime for the urgent item");
    await sam.shot("37-urgent-item-desktop");
    for (const who of [nia, sam]) await who.page.emulateMedia({ colorScheme: "dark" });
    await sam.page.waitForTimeout(200);  // colour transitions settle
    assert.deepEqual(await nia.contrastProblems(), [], "text contrast meets WCAG AA in the support panel (dark)");
    assert.deepEqual(await sam.contrastProblems(), [], "text contrast meets WCAG AA in the queue (dark)");
    await sam.shot("37-urgent-item-dark");
    for (const who of [nia, sam]) await who.page.emulateMedia({ colorScheme: "light" });

    // A phone: the panel and the queue fit in 375 px, and the panel leaves the conversation
    // usable: the message box is in view and the messages keep real room.
    await nia.page.setViewportSize(PHONE);
    assert.equal(await nia.hasHorizontalScroll(), false, "support panel on a phone");
    const room = await nia.page.evaluate(() => {
      const box = document.getElementById("composer-text")?.getBoundingClientRect();
      const log = document.querySelector(".messages")?.getBoundingClientRect();
      return { composerVisible: Boolean(box && box.top >= 0 && box.bottom <= window.innerHeight), log: log?.height ?? 0 };
    });
    assert.ok(room.composerVisible, "the message box stays in view beside the support panel");
    assert.ok(room.log >= 150, `the conversation keeps room to read (${room.log} px)`);
    const smallest = await panel.locator("a.resource-call").evaluateAll((links) =>
      Math.min(...links.map((a) => Math.min(a.getBoundingClientRect().width, a.getBoundingClientRect().height))));
    assert.ok(smallest >= 44, `every call link is at least 44 x 44 px (smallest side ${smallest} px)`);
    await panel.getByText("Only you can see this.", { exact: false }).waitFor();
    await nia.shot("38-crisis-panel-phone");
    await nia.page.setViewportSize(DESKTOP);
    await sam.page.setViewportSize(PHONE);
    assert.equal(await sam.hasHorizontalScroll(), false, "moderation queue on a phone");
    await sam.shot("39-moderation-queue-phone");
    await sam.page.setViewportSize(DESKTOP);

    // It stays until closed; focus returns to the message box; it can be opened again.
    await panel.getByRole("button", { name: "Close support lines" }).click();
    await panel.waitFor({ state: "detached" });
    assert.equal(await nia.page.evaluate(() => document.activeElement?.id), "composer-text");
    await nia.page.getByRole("button", { name: "Show support lines again" }).click();
    await panel.waitFor();
    await panel.getByRole("button", { name: "Close support lines" }).click();

    // Claimed: one owner, shown to every moderator; the title no longer counts it.
    await urgent.getByRole("button", { name: /^Claim/ }).click();
    await urgent.locator(".claimed-by", { hasText: "Claimed by" }).waitFor();
    assert.doesNotMatch(await sam.page.title(), /^\(\d+\) /, "a claimed item is no longer counted");
    await urgent.getByLabel("How it ended").selectOption({ label: "Reached out to them" });
    await urgent.getByRole("button", { name: /^Close/ }).click();
    await urgent.waitFor({ state: "detached" });
  });

  test("on duty: the moderator goes on duty and the author is told a moderator was let know", async () => {
    await sam.page.getByRole("tab", { name: /^Queue/ }).click();
    const duty = sam.page.getByLabel("I am on duty");
    await sam.page.getByText("Nobody is on duty right now.").waitFor();
    await duty.check();
    await sam.page.getByText("On duty now: Sam.").waitFor();
    await sam.shot("37-on-duty-desktop");
    const words = "Some nights I want to end my life, honestly.";
    await nia.post(words);
    const panel = nia.page.getByRole("region", { name: SUPPORT_TITLE });
    await panel.getByText("A moderator has been let know", { exact: false }).waitFor();
    assert.equal(await panel.locator(".crisis-human").getAttribute("data-on-duty"), "yes");
    await panel.getByRole("button", { name: "Close support lines" }).click();
    // A reload (a reconnect) keeps this tab on duty.
    await sam.page.reload();
    await openQueue();
    await sam.page.getByText("On duty now: Sam.").waitFor();
    const urgent = sam.page.locator(".queue-item.urgent", { hasText: words });
    await urgent.getByRole("button", { name: /^Claim/ }).click();

    // Reach out: the owner writes privately; only Nia sees it, and her answer comes back.
    const hello = "Hi Nia, it's Sam. I saw your message and I'm here if you want to talk.";
    await urgent.getByLabel("Reach out to Nia privately").fill(hello);
    await urgent.getByRole("button", { name: "Send privately" }).click();
    const privately = nia.page.getByRole("region", { name: "Sam, a moderator, wrote to you" });
    await privately.getByText(hello).waitFor();
    await privately.getByText("Only you and Sam can see this conversation.", { exact: false }).waitFor();
    assert.equal(await oscar.page.getByText(hello).count(), 0, "nobody else sees it");
    const answer = "Thanks Sam. It helps that someone noticed.";
    await privately.getByLabel("Answer Sam privately").fill(answer);
    await privately.getByRole("button", { name: "Send privately" }).click();
    await privately.locator(".private-line.mine", { hasText: answer }).waitFor();
    await urgent.locator(".private-line", { hasText: answer }).waitFor();
    await nia.shot("36-private-conversation-desktop");
    assert.deepEqual(await nia.contrastProblems(), [], "text contrast meets WCAG AA in the private conversation");
    await nia.page.setViewportSize(PHONE);
    assert.equal(await nia.hasHorizontalScroll(), false, "private conversation on a phone");
    await nia.page.setViewportSize(DESKTOP);
    await privately.getByRole("button", { name: "Close the private conversation" }).click();

    await urgent.getByLabel("How it ended").selectOption({ label: "Reached out to them" });
    await urgent.getByRole("button", { name: /^Close/ }).click();
    await urgent.waitFor({ state: "detached" });

    // Someone who leaves right after a crisis post and does not come back: the moderator on
    // duty is told, and the item says so.
    const ivy = await Participant.enter(browser, server.url, "Ivy");
    await ivy.join(...LOBBY);
    const goodbye = "I can't do this anymore, I want to end my life tonight.";
    await ivy.post(goodbye);
    const hers = sam.page.locator(".queue-item.urgent", { hasText: goodbye });
    await hers.waitFor();
    await ivy.context.close();
    await sam.page.getByText("Ivy left soon after a crisis post and has not come back.").waitFor();
    await hers.locator(".author-left", { hasText: "has not come back" }).waitFor();
    await sam.shot("37-author-left-desktop");
    await hers.getByRole("button", { name: /^Claim/ }).click();
    await hers.getByLabel("How it ended").selectOption({ label: "Gave them the crisis lines" });
    await hers.getByRole("button", { name: /^Close/ }).click();
    await hers.waitFor({ state: "detached" });
    await sam.page.getByLabel("I am on duty").uncheck();
    await sam.page.getByText("Nobody is on duty right now.").waitFor();
  });

  test("in a hold room a held post waits, then appears for the other person once released", async () => {
    await nia.join(...CIRCLE);
    await oscar.join(...CIRCLE);
    const words = "I don't think I can go on. I want to die.";
    await nia.post(words);
    const mine = nia.message(words);
    await mine.locator(".msg-status", { hasText: "Waiting for a moderator" }).waitFor();
    // Honest about the wait: nobody is on duty, so it says so rather than "soon".
    await mine.locator(".msg-problem", { hasText: "None is on duty right now" }).waitFor();
    await nia.page.getByRole("region", { name: SUPPORT_TITLE }).waitFor();
    await nia.page.getByRole("button", { name: "Close support lines" }).click();
    await nia.shot("40-held-post-desktop");

    const held = sam.page.locator(".queue-item", { hasText: words });
    await held.waitFor();
    assert.equal(await held.getAttribute("data-kind"), "Held for review");
    assert.equal(await oscar.count(words), 0, "nobody else sees a held post");
    await held.getByRole("button", { name: /^Release post/ }).click();
    await held.waitFor({ state: "detached" });
    await oscar.waitForMessage(words);
    await nia.waitForMessage(words);
    assert.equal(await mine.locator(".msg-status").count(), 0, "no longer waiting");
    assert.equal(await nia.count(words), 1);
    await nia.page.getByText("A moderator shared your post with the room.").first().waitFor();

    // Rejected: the author's message says so, and can still be edited or discarded.
    const second = "Everything is pointless and I want to die tonight.";
    await nia.post(second);
    const rejected = sam.page.locator(".queue-item", { hasText: second });
    await rejected.getByRole("button", { name: /^Reject post/ }).click();
    await rejected.waitFor({ state: "detached" });
    const gone = nia.message(second);
    await gone.locator(".msg-status", { hasText: "Not sent" }).waitFor();
    await gone.locator(".msg-problem", { hasText: "decided not to share your post" }).waitFor();
    assert.equal(await oscar.count(second), 0, "nobody else sees a rejected post");
    const closeSupport = nia.page.getByRole("button", { name: "Close support lines" });
    if (await closeSupport.count()) await closeSupport.click();
  });

  test("room settings and member actions: lock, slow mode, mute, remove", async () => {
    await openLobby(sam);
    await openLobby(nia);
    await openLobby(oscar);
    const settings = async (button, slowMode) => {
      await sam.page.getByRole("button", { name: "Room settings" }).click();
      const dialog = sam.page.getByRole("dialog", { name: "Room settings: Drop-in lounge" });
      if (slowMode) await dialog.getByLabel("Time between messages, per person").selectOption({ label: slowMode });
      await dialog.getByRole("button", { name: button }).click();
      await dialog.waitFor({ state: "detached" });
    };

    await settings("Lock the room");
    await nia.page.locator(".notice", { hasText: "locked the room" }).waitFor();
    await nia.page.locator(".room-status", { hasText: "The room is locked" }).waitFor();
    await nia.post("Is anyone still here?");
    await nia.message("Is anyone still here?").locator(".msg-problem", { hasText: "The room is locked for the moment" }).waitFor();
    await settings("Unlock the room");
    await nia.page.locator(".notice", { hasText: "The room is open again" }).waitFor();
    await nia.message("Is anyone still here?").getByRole("button", { name: /^Send again/ }).click();
    await oscar.waitForMessage("Is anyone still here?");

    await settings("Apply slow mode", "30 seconds");
    await oscar.page.locator(".notice", { hasText: "Slow mode is on" }).waitFor();
    await oscar.post("First thought.");
    await oscar.post("Second thought.");
    const waiting = oscar.message("Second thought.");
    await waiting.locator(".msg-problem", { hasText: "Slow mode is on in this room. We'll send this in" }).waitFor();
    await waiting.getByRole("button", { name: /^Discard/ }).click();
    await settings("Apply slow mode", "Off");
    await oscar.page.locator(".notice", { hasText: "Slow mode is off" }).waitFor();

    await moderateMember("Oscar", "Mute: pause their posting in this room", { duration: "15 minutes", reason: "A short pause to let the thread settle.", shot: "43-member-dialog-desktop" });
    await oscar.page.locator(".notice", { hasText: "A moderator has paused your posting in this room" }).waitFor();
    await oscar.page.locator(".room-status", { hasText: "paused your posting" }).waitFor();
    await oscar.post("But I wanted to say something.");
    await oscar.message("But I wanted to say something.").locator(".msg-problem", { hasText: "paused your posting in this room for about 15 minutes" }).waitFor();
    await oscar.shot("41-muted-desktop");
    await sam.page.locator(".notice", { hasText: "Sam muted Oscar" }).waitFor();
    assert.equal(await nia.page.locator(".notice", { hasText: "muted Oscar" }).count(), 0, "others are not told about a mute");
    await moderateMember("Oscar", "Lift a mute");
    await oscar.page.locator(".notice", { hasText: "You can post in this room again." }).waitFor();

    await moderateMember("Oscar", "Remove from the room (they may come back)", { reason: "Time for a breather." });
    const problem = oscar.page.locator(".room-problem", { hasText: "asked you to step out of this room" });
    await problem.waitFor();
    await nia.memberLocator("Oscar").waitFor({ state: "detached" });
    await problem.getByRole("button", { name: "Join again" }).click();
    await oscar.waitJoined("lobby");
    await nia.memberLocator("Oscar").waitFor({ state: "attached" });
  });

  test("a banned participant sees a calm explanation and is not reconnected", async () => {
    await moderateMember("Oscar", "Ban from the room", { duration: "24 hours", reason: "Repeated spam after a warning." });
    await oscar.page.getByRole("heading", { name: "A moderator has closed your session" }).waitFor();
    assert.equal(await oscar.connection(), "banned");
    const sockets = oscar.sockets;
    await oscar.page.waitForTimeout(2500);  // the first reconnection would come within a second
    assert.equal(oscar.sockets, sockets, "no reconnection after a ban");
    await oscar.shot("42-banned-desktop");
    assert.deepEqual(await oscar.contrastProblems(), [], "text contrast meets WCAG AA in the banned state");
    await nia.memberLocator("Oscar").waitFor({ state: "detached" });
    await sam.page.locator(".notice", { hasText: "Sam banned Oscar" }).waitFor();
  });

  test("the audit log pages back with \"Load more\", newest first", async () => {
    await openQueue();
    await sam.page.getByRole("tab", { name: "Audit log" }).click();
    const entries = sam.page.locator(".audit-entry");
    await sam.page.locator(".audit-entry[data-action='ban']").first().waitFor();
    assert.equal(await entries.count(), 10, "one page");
    // Back to the first flag of the evening: a few pages, each a "Load more".
    for (let page = 1; page <= 4 && !(await sam.page.locator(".audit-entry[data-action='flag']").count()); page += 1) {
      await sam.page.getByRole("button", { name: "Load more" }).click();
      await sam.page.waitForFunction((shown) => document.querySelectorAll(".audit-entry").length > shown, page * 10);
    }
    const times = await entries.evaluateAll((els) => els.map((e) => Date.parse(e.querySelector("time").dateTime)));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), "newest first across pages");
    const actions = await entries.evaluateAll((els) => els.map((e) => e.dataset.action));
    for (const action of ["flag", "hide_post", "crisis_detected", "release_post", "lock_room", "mute", "kick", "ban"]) {
      assert.ok(actions.includes(action), `${action} in ${actions}`);
    }
  });

  test("a notice from the people who run Haven is labelled as theirs; a history removal clears every screen", async () => {
    const operator = mintToken(SECRET, { sub: "operator-olive", name: "Olive", role: "operator" });
    const api = async (path, body) => {
      const response = await fetch(new URL(path, server.url), {
        method: "POST",
        headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.text();
      assert.equal(response.status, 200, answer);
      return JSON.parse(answer);
    };
    await openLobby(nia);
    await openLobby(sam);
    await nia.post("Before the notice.");
    await sam.waitForMessage("Before the notice.");

    const text = "Haven restarts at 22:00 for five minutes; you will be back in your rooms by yourself.";
    await api("/admin/api/publish", { room: "lobby", text });
    const notice = nia.page.locator(".notice-service", { hasText: text });
    await notice.waitFor();
    assert.equal(await notice.textContent(), `From the Haven team: ${text}`);
    assert.equal(await nia.count(text), 0, "never shown as a member's message");
    await nia.shot("45-service-notice-desktop");
    assert.deepEqual(await nia.contrastProblems(), [], "text contrast meets WCAG AA with a service notice");

    await api("/admin/api/history_remove", { room: "lobby", reason: "a request to remove the evening's conversation" });
    for (const who of [nia, sam]) {
      await who.page.locator(".notice", { hasText: "Earlier messages in this room were removed" }).waitFor();
      await who.message("Before the notice.").waitFor({ state: "detached" });
      assert.equal(await who.page.locator(".notice-service").count(), 0, `${who.handle}: the notice went with the rest`);
    }
    // Someone arriving afterwards finds only what came after. (Signed in: Oscar's ban keeps
    // out new guests from this address, which every browser here shares.)
    const kit = await Participant.signIn(browser, server.url, mintToken(SECRET, { sub: "participant-kit", name: "Kit", role: "participant" }), "Kit");
    await kit.join(...LOBBY);
    await kit.page.locator(".notice", { hasText: "Earlier messages in this room were removed" }).waitFor();
    assert.equal(await kit.count("Before the notice."), 0);
    assert.deepEqual(kit.errors, []);
    await kit.page.context().close();
  });

  test("moderation: no script errors in the pages", () => {
    for (const who of [nia, oscar, sam]) assert.deepEqual(who?.errors ?? [], [], who?.handle);
  });
});
