// One WebSocket to the server that comes back by itself: exponential backoff with jitter,
// immediate retry when the browser comes back online, a keepalive Ping that notices a
// connection that died silently. Knows nothing about rooms: HavenClient does the protocol.
import { SUBPROTOCOL, decodeServer, encodeClient, type ClientMessageProps, type ServerMessage } from "./proto";

export type ConnectionState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "waiting"; retryAt: number; attempt: number }  // a retry is scheduled
  | { kind: "offline" }                                     // the browser says it has no network
  | { kind: "stopped"; reason?: string; banned?: boolean };  // by choice or refused for good

export interface ConnectionHandlers {
  open(): void;                         // send Hello now
  message(message: ServerMessage): void;
  state(state: ConnectionState): void;
}

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
// Close codes after which coming back would only be refused again.
// 1008: a policy the client broke; 4004: an operator ended the session.
const NO_RETRY_CODES = new Set([1008, 4004]);
const BANNED_CODE = 4003;  // a moderator banned this person: never come back by ourselves

export function defaultSocketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/** Backoff delay for the n-th consecutive failed attempt (0-based): "equal jitter". */
export function backoffDelay(attempt: number, random = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class Connection {
  private socket: WebSocket | null = null;
  private state: ConnectionState = { kind: "stopped" };
  private failures = 0;
  private retryTimer: number | undefined;
  private pingTimer: number | undefined;
  private pongTimer: number | undefined;
  private readonly onOnline = () => this.reconnectNow();
  private readonly onOffline = () => this.goOffline();
  // A phone that slept may hold a dead socket: check as soon as the page is seen again.
  private readonly onVisible = () => {
    if (document.visibilityState === "visible" && this.state.kind === "open") this.probe();
  };

  constructor(private readonly url: string, private readonly handlers: ConnectionHandlers) {}

  start(): void {
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    document.addEventListener("visibilitychange", this.onVisible);
    this.failures = 0;
    this.connect();
  }

  /** Closes for good (the person left Haven). */
  stop(reason?: string, banned = false): void {
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    document.removeEventListener("visibilitychange", this.onVisible);
    this.clearTimers();
    this.dropSocket();
    this.setState({ kind: "stopped", reason, banned });
  }

  get current(): ConnectionState {
    return this.state;
  }

  /** The server accepted us (Welcome): the next failure starts the backoff from scratch. */
  markHealthy(): void {
    this.failures = 0;
  }

  send(message: ClientMessageProps): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(encodeClient(message));
    return true;
  }

  reconnectNow(): void {
    if (this.state.kind === "stopped" || this.state.kind === "open" || this.state.kind === "connecting") return;
    this.clearTimers();
    this.connect();
  }

  /** The server is draining (Reconnect message): come back after `afterMs`, spread out. */
  reconnectAfter(afterMs: number): void {
    this.dropSocket();
    this.scheduleRetry(afterMs + Math.round(Math.random() * Math.max(500, afterMs / 2)));
  }

  private connect(): void {
    if (!navigator.onLine) return this.goOffline();
    this.setState({ kind: "connecting", attempt: this.failures });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url, SUBPROTOCOL);
    } catch {
      return this.failed();
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.setState({ kind: "open" });
      this.startKeepalive();
      this.handlers.open();
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket || !(event.data instanceof ArrayBuffer)) return;
      this.heard();
      let message: ServerMessage;
      try {
        message = decodeServer(event.data);
      } catch {
        return;  // a frame we cannot read is skipped, like the server does
      }
      this.handlers.message(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopKeepalive();
      if (event.code === BANNED_CODE) {
        this.stop(undefined, true);
        return;
      }
      if (NO_RETRY_CODES.has(event.code)) {
        this.setState({ kind: "stopped", reason: "The server closed the connection. Please reload the page to try again." });
        return;
      }
      this.failed();
    };
  }

  private failed(): void {
    if (this.state.kind === "stopped" || this.state.kind === "offline") return;
    this.scheduleRetry(backoffDelay(this.failures));
    this.failures += 1;
  }

  private scheduleRetry(delayMs: number): void {
    this.clearTimers();
    this.setState({ kind: "waiting", retryAt: Date.now() + delayMs, attempt: this.failures });
    this.retryTimer = window.setTimeout(() => this.connect(), delayMs);
  }

  private goOffline(): void {
    if (this.state.kind === "stopped") return;
    this.clearTimers();
    this.dropSocket();
    this.setState({ kind: "offline" });
  }

  /** Forgets the current socket: its late events are ignored from here on. */
  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.stopKeepalive();
    if (socket && socket.readyState <= WebSocket.OPEN) {
      try {
        socket.close(1000);
      } catch {
        /* already closing */
      }
    }
  }

  private startKeepalive(): void {
    this.stopKeepalive();
    this.pingTimer = window.setInterval(() => this.probe(), PING_EVERY_MS);
  }

  private probe(): void {
    this.send({ ping: { clientTimeMs: Date.now() } });
    if (this.pongTimer !== undefined) return;
    this.pongTimer = window.setTimeout(() => {
      // Nothing came back: the connection is dead even if the browser has not noticed.
      this.dropSocket();
      this.failed();
    }, PONG_WITHIN_MS);
  }

  private heard(): void {
    window.clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  private stopKeepalive(): void {
    window.clearInterval(this.pingTimer);
    window.clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = undefined;
  }

  private clearTimers(): void {
    window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.handlers.state(state);
  }
}
