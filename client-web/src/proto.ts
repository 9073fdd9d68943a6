// The wire contract, generated at build time from ../proto/haven.proto (npm run proto).
// Every frame on the WebSocket (subprotocol "haven.v1.proto") is one ClientMessage or
// ServerMessage in protobuf binary.
import $protobuf from "protobufjs/minimal.js";
import { haven } from "./gen/haven.js";

// Sequence numbers and request ids are uint64 on the wire but stay far below 2^53: read them
// as plain numbers instead of Long objects.
($protobuf.util as { Long: unknown }).Long = null;
$protobuf.configure();

export const v1 = haven.v1;
export const SUBPROTOCOL = "haven.v1.proto";

export type ClientMessageProps = haven.v1.ClientMessage.$Properties;
export type ServerMessage = haven.v1.ServerMessage;
export type Welcome = haven.v1.Welcome.$Properties;
export type Joined = haven.v1.Joined.$Properties;
export type RoomInfo = haven.v1.RoomInfo.$Properties;
export type MeetingTimes = haven.v1.MeetingTimes.$Properties;
export type Member = haven.v1.Member.$Properties;
export type WireEvent = haven.v1.Event.$Properties;
export type HistoryPage = haven.v1.HistoryPage.$Properties;
export type WireError = haven.v1.Error.$Properties;
export type Limits = haven.v1.Limits.$Properties;
export type Ack = haven.v1.Ack.$Properties;
export type Posted = haven.v1.Posted.$Properties;
export type Alert = haven.v1.Alert.$Properties;
export type CrisisResource = haven.v1.CrisisResource.$Properties;
export type ModerationItem = haven.v1.ModerationItem.$Properties;
export type AuditEntry = haven.v1.AuditEntry.$Properties;
export type Moderate = haven.v1.Moderate.$Properties;
export const ErrorCode = haven.v1.ErrorCode;
export const Role = haven.v1.Role;
export const FlagReason = haven.v1.FlagReason;
export const ModerationAction = haven.v1.ModerationAction;
export const AlertKind = haven.v1.Alert.Kind;
export const ItemKind = haven.v1.ModerationItem.Kind;
export const AlertOutcome = haven.v1.AlertOutcome;

export function encodeClient(message: ClientMessageProps): Uint8Array {
  return v1.ClientMessage.encode(message).finish();
}

export function decodeServer(data: ArrayBuffer): ServerMessage {
  return v1.ServerMessage.decode(new Uint8Array(data));
}
