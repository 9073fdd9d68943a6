// The rooms one may join, with their topic, how many people are there now, and for a meeting
// when it next meets (in the person's own time).
import type { HavenClient } from "../client";
import type { MeetingTimes } from "../proto";
import { h, replaceChildren } from "./dom";

const dayAndTime = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

// "Next meeting Thu 3 Dec, 19:00 (doors open 18:50)", "Doors open, starts 19:00", "Meeting now,
// until 20:30 (late entry until 19:15)".
export function meetingLine(next: MeetingTimes | null | undefined, nowMs: number): string | null {
  if (!next) return null;
  const doors = Number(next.doorsOpenMs ?? 0);
  const start = Number(next.startMs ?? 0);
  const late = Number(next.lateEntryUntilMs ?? 0);
  const end = Number(next.endMs ?? 0);
  if (!start || !end || nowMs >= end) return null;
  if (nowMs >= start) {
    const entry = nowMs < late ? ` (late entry until ${timeOnly.format(late)})` : " (no new arrivals now)";
    return `Meeting now, until ${timeOnly.format(end)}${entry}`;
  }
  if (nowMs >= doors) return `Doors open, starts ${timeOnly.format(start)}`;
  const opens = doors < start ? ` (doors open ${timeOnly.format(doors)})` : "";
  return `Next meeting ${dayAndTime.format(start)}${opens}`;
}

const kindNames: Record<string, string> = {
  drop_in: "Drop-in",
  group: "Group",
  meeting: "Meeting",
  one_to_one: "One-to-one",
};

export function renderRoomList(list: HTMLElement, client: HavenClient, join: (roomId: string) => void): void {
  const directory = client.directory.length ? client.directory : [...client.rooms.values()].map((r) => r.info);
  replaceChildren(list, ...directory.map((info) => {
    const id = info.id ?? "";
    const room = client.rooms.get(id);
    const inside = Boolean(room);
    const active = client.activeRoom === id;
    const here = room?.joined ? room.members.size : info.memberCount ?? 0;
    const capacity = info.capacity ?? 0;
    const full = !inside && capacity > 0 && here >= capacity;
    const title = info.title || id;
    const unread = room && !active && room.unread > 0 ? room.unread : 0;
    const meeting = meetingLine(info.nextMeeting, Date.now());
    return h("li", { class: `room-card${active ? " active" : ""}${inside ? " inside" : ""}`, "data-room": id },
      h("div", { class: "room-card-text" },
        h("h3", {}, title),
        info.topic ? h("p", { class: "room-card-topic" }, info.topic) : null,
        h("p", { class: "room-card-meta" },
          kindNames[info.kind ?? ""] ?? "Room", " · ",
          h("span", { class: "here" }, here === 1 ? "1 person here" : `${here} people here`),
          unread ? h("span", { class: "unread" }, ` · ${unread} new`) : null),
        meeting ? h("p", { class: "room-card-meeting", title: `Times in your time zone; the meeting keeps ${info.nextMeeting?.timeZone ?? "its"} time` }, meeting) : null,
      ),
      h("button", {
        type: "button",
        class: inside ? "secondary" : "primary",
        "aria-label": `${inside ? "Open" : "Join"} ${title}`,
        "aria-current": active ? "true" : undefined,
        disabled: full,
        onclick: () => join(id),
      }, full ? "Full" : inside ? "Open" : "Join"),
    );
  }));
}
