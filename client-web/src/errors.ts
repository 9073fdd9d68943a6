// Server errors in words for people. Branch on the stable code, never on the message text.
import { ErrorCode, type WireError } from "./proto";

function seconds(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s === 1 ? "a second" : `${s} seconds`;
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
    case ErrorCode.NOT_JOINED:
      return "You're not in this room right now. We'll rejoin and try again.";
    default:
      return error.message ? `Something went wrong: ${error.message}.` : "Something went wrong. Please try again.";
  }
}
