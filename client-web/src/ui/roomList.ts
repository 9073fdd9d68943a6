// The rooms one may join, with their topic and how many people are there now.
import type { HavenClient } from "../client";
import { h, replaceChildren } from "./dom";

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
    return h("li", { class: `room-card${active ? " active" : ""}${inside ? " inside" : ""}`, "data-room": id },
      h("div", { class: "room-card-text" },
        h("h3", {}, title),
        info.topic ? h("p", { class: "room-card-topic" }, info.topic) : null,
        h("p", { class: "room-card-meta" },
          kindNames[info.kind ?? ""] ?? "Room", " · ",
          h("span", { class: "here" }, here === 1 ? "1 person here" : `${here} people here`),
          unread ? h("span", { class: "unread" }, ` · ${unread} new`) : null),
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
