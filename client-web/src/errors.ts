// Server errors in words for people. Branch on the stable code, never on the message text.
import { ErrorCode, type WireError } from "./proto";

function seconds(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s === 1 ? "a second" : `${s} seconds`;
}

/** "about 5 minutes", "about 2 hours": how long a pause lasts, said gently. */
export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (ms < 60_000) return seconds(ms);
  if (minutes < 60) return minutes === 1 ? "about a minute" : `about ${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return hours === 1 ? "about an hour" : `about ${hours} hours`;
  return `about ${Math.round(hours / 24)} days`;
}

export function kindMessage(error: WireError, maxPostChars?: number): string {
  const retry = error.retryAfterMs ?? 0;
  switch (error.code) {
    case ErrorCode.RATE_LIMITED:
      return `You're sending quickly. We'll send this in ${seconds(retry || 1000)}.`;
    case ErrorCode.POST_TOO_LONG:
      return maxPostChars
        ? `This message is longer than ${maxPostChars} characters. You could split it into a few messages.`
        : "This message is too long. You could split it into a few messages.";
    case ErrorCode.ROOM_FULL:
      return "This room is full right now. You could try again in a little while, or visit another room.";
    case ErrorCode.UNKNOWN_ROOM:
      return "This room isn't available any more.";
    case ErrorCode.TOO_MANY_ROOMS:
      return "You're in many rooms at once. Leave one before joining another.";
    case ErrorCode.GUESTS_DISABLED:
      return "This server doesn't welcome guests. Please sign in with a token.";
    case ErrorCode.AUTH_FAILED:
      return `We couldn't sign you in with that token${error.message ? ` (${error.message})` : ""}. If it has expired, please ask for a new one.`;
    case ErrorCode.BAD_REQUEST:
      return error.message ? `The server couldn't accept that: ${error.message}.` : "The server couldn't accept that.";
    case ErrorCode.UNAVAILABLE:
      return `The server is busy for a moment. We'll try again in ${seconds(retry || 1000)}.`;
    case ErrorCode.MUTED:
      return retry
        ? `A moderator has paused your posting in this room for ${duration(retry)}. Your message is kept here, so you can send it later.`
        : "A moderator has paused your posting in this room for now. Your message is kept here, so you can send it later.";
    case ErrorCode.ROOM_LOCKED:
      return "The room is locked for the moment, so only moderators can post. Your message is kept here; you can send it when the room opens again.";
    case ErrorCode.MEETING_CLOSED:
      return retry
        ? `This meeting isn't in session now. Its doors open in ${duration(retry)}; your message is kept here, so you can send it then.`
        : "This meeting has no sessions planned any more, so the room is read-only. Your message is kept here.";
    case ErrorCode.SLOW_MODE_WAIT:
      return `Slow mode is on in this room. We'll send this in ${seconds(retry || 1000)}.`;
    case ErrorCode.BANNED:
      return "A moderator has removed you from this room, so you can't post or join here for now.";
    case ErrorCode.ALREADY_FLAGGED:
      return "You've already flagged this message. Thank you: a moderator will take a look.";
    case ErrorCode.NOT_FOUND:
      return "That message or person isn't there any more. It may already have been dealt with.";
    case ErrorCode.FORBIDDEN:
      return "Only moderators can do that here.";
    case ErrorCode.NOT_JOINED:
      return "You're not in this room right now. We'll rejoin and try again.";
    default:
      return error.message ? `Something went wrong: ${error.message}.` : "Something went wrong. Please try again.";
  }
}
