// A moderator's actions on people and rooms: the member dialog (mute, remove, ban, lift a
// mute; a reason is always asked for, and kept in the audit log) and the room settings
// dialog (lock, slow mode). Every outcome is confirmed in a short note.
import type { HavenClient } from "../../client";
import { DURATIONS, SLOW_MODES } from "../../moderation";
import { ModerationAction, type Moderate } from "../../proto";
import { h } from "../dom";
import { openDialog, radioGroup } from "../dialog";

/** Sends one action; says how it went. */
export async function act(client: HavenClient, action: Moderate, done: string): Promise<boolean> {
  const outcome = await client.moderate(action);
  client.notify(outcome.ok ? done : outcome.text, outcome.ok ? "info" : "error");
  return outcome.ok;
}

/** Someone to act on: a present member (member_id) or the author of a queue item (subject). */
export interface MemberTarget {
  roomId: string;
  handle: string;
  memberId?: string;
  subject?: string;
}

type MemberChoice = "mute" | "kick" | "ban" | "unmute";

const CHOICES: Record<MemberChoice, { label: string; verb: string; action: number; timed: boolean }> = {
  mute: { label: "Mute: pause their posting in this room", verb: "Mute", action: ModerationAction.MUTE, timed: true },
  kick: { label: "Remove from the room (they may come back)", verb: "Remove", action: ModerationAction.KICK, timed: false },
  ban: { label: "Ban from the room", verb: "Ban", action: ModerationAction.BAN, timed: true },
  unmute: { label: "Lift a mute", verb: "Unmute", action: ModerationAction.UNMUTE, timed: false },
};

let formCounter = 0;

export function openMemberDialog(client: HavenClient, target: MemberTarget, initial: MemberChoice = "mute"): void {
  const room = client.rooms.get(target.roomId)?.info.title || client.directory.find((r) => r.id === target.roomId)?.title || target.roomId;
  openDialog(`Moderate ${target.handle}`, (dialog) => {
    const n = ++formCounter;
    const choice = radioGroup(`member-action-${n}`, `What should happen in ${room}?`,
      (Object.keys(CHOICES) as MemberChoice[]).map((key) => [key, CHOICES[key].label]), initial);
    const durationId = `member-duration-${n}`;
    const duration = h("select", { id: durationId },
      ...DURATIONS.map(([label, seconds]) => h("option", { value: String(seconds), selected: seconds === 3600 }, label)));
    const durationRow = h("div", { class: "stack" }, h("label", { for: durationId }, "For how long"), duration);
    const reasonId = `member-reason-${n}`;
    const reason = h("textarea", { id: reasonId, rows: "2", maxlength: "500", "aria-describedby": `${reasonId}-hint` });
    const problem = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "primary" });
    const sync = () => {
      const picked = CHOICES[(choice.value() || initial) as MemberChoice];
      durationRow.hidden = !picked.timed;
      submit.textContent = `${picked.verb} ${target.handle}`;
    };
    choice.element.addEventListener("change", sync);
    sync();
    const form = h("form", { class: "stack" },
      choice.element,
      durationRow,
      h("label", { for: reasonId }, "Reason"),
      h("p", { class: "hint", id: `${reasonId}-hint` }, "Required for mute, remove and ban. Kept in the audit log; the person may see it too, so keep it kind and factual."),
      reason,
      problem,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, "Cancel"),
        submit),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const key = (choice.value() || initial) as MemberChoice;
      const picked = CHOICES[key];
      const why = reason.value.trim();
      if (!why && key !== "unmute") {
        problem.textContent = "Please give a short reason. It helps the other moderators.";
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
        return;
      }
      submit.disabled = true;
      const seconds = picked.timed ? Number(duration.value) : 0;
      const how = picked.timed ? (seconds ? ` for ${DURATIONS.find(([, s]) => s === seconds)?.[0]}` : " until a moderator lifts it") : "";
      const done = key === "unmute" ? `${target.handle} can post again.`
        : key === "kick" ? `${target.handle} was removed from ${room}.`
        : `${target.handle} is ${key === "mute" ? "muted" : "banned"}${how}.`;
      const ok = await act(client, {
        roomId: target.roomId, action: picked.action, memberId: target.memberId ?? "", subject: target.subject ?? "",
        durationSeconds: seconds, reason: why,
      }, done);
      if (ok) dialog.close();
      else submit.disabled = false;
    });
    return [form];
  }, { className: "member-dialog" });
}

export function openRoomSettings(client: HavenClient, roomId: string): void {
  const room = client.rooms.get(roomId);
  const title = room?.info.title || roomId;
  openDialog(`Room settings: ${title}`, (dialog) => {
    const locked = room?.locked ?? false;
    const lock = h("button", {
      type: "button", class: "secondary",
      onclick: async () => {
        lock.disabled = true;
        const ok = await act(client, { roomId, action: locked ? ModerationAction.UNLOCK_ROOM : ModerationAction.LOCK_ROOM },
          locked ? `${title} is open again.` : `${title} is locked: only moderators can post.`);
        if (ok) dialog.close();
        else lock.disabled = false;
      },
    }, locked ? "Unlock the room" : "Lock the room");
    const slowId = `slow-mode-${roomId}`;
    const current = room?.slowModeSeconds ?? 0;
    const slow = h("select", { id: slowId },
      ...SLOW_MODES.map(([label, seconds]) => h("option", { value: String(seconds), selected: seconds === current }, label)));
    const apply = h("button", {
      type: "button", class: "secondary",
      onclick: async () => {
        apply.disabled = true;
        const seconds = Number(slow.value);
        const ok = await act(client, { roomId, action: ModerationAction.SET_SLOW_MODE, slowModeSeconds: seconds },
          seconds ? `Slow mode is on in ${title}.` : `Slow mode is off in ${title}.`);
        if (ok) dialog.close();
        else apply.disabled = false;
      },
    }, "Apply slow mode");
    return [
      h("section", { class: "stack" },
        h("h3", {}, "Lock"),
        h("p", {}, locked ? "The room is locked: only moderators can post." : "The room is open: everyone can post."),
        h("div", {}, lock)),
      h("section", { class: "stack" },
        h("h3", {}, "Slow mode"),
        h("label", { for: slowId }, "Time between messages, per person"),
        h("div", { class: "inline-row" }, slow, apply)),
      h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, "Close")),
    ];
  }, { className: "room-settings" });
}
