// What survives a reload of this tab (sessionStorage: gone when the tab closes, never shared
// with other tabs): who I am to the server, which rooms I was in, and what I wrote that the
// server has not acknowledged yet.

export interface Identity {
  token?: string;        // a sign-in token pasted by the person
  guestHandle?: string;  // preferred guest handle (empty: the server picks a friendly one)
  guestToken?: string;   // Welcome.guest_token: keeps the same guest across reconnects
}

export interface SavedPost {
  clientMsgId: string;
  text: string;
  contentWarning: string;
  holdId?: string;  // waiting for a moderator: shown as such, never sent again
}

export interface Saved {
  identity: Identity | null;
  rooms: string[];
  active: string | null;
  outbox: Record<string, SavedPost[]>;
  sessionIds: string[];  // my earlier member ids, to recognise my own posts in history
}

const KEY = "haven.session.v1";

function empty(): Saved {
  return { identity: null, rooms: [], active: null, outbox: {}, sessionIds: [] };
}

export function load(): Saved {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return empty();
    return { ...empty(), ...(JSON.parse(raw) as Partial<Saved>) };
  } catch {
    return empty();
  }
}

export function save(saved: Saved): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(saved));
  } catch {
    /* storage full or disabled: the session still works, it just won't survive a reload */
  }
}

export function clear(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* ignore */
  }
}
