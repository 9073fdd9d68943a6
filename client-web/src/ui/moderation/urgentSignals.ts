// What makes an urgent item impossible to miss for a moderator whose eyes are elsewhere: the
// count of unclaimed urgent items in the tab title, a short chime (on by default, can be
// turned off and stays off), and a desktop notification when the person allowed them. The
// notification names the room only: never the words of the post.
const SOUND_KEY = "haven.urgentSound";

export class UrgentSignals {
  private readonly baseTitle = document.title;
  private audio: AudioContext | null = null;

  get soundOn(): boolean {
    return localStorage.getItem(SOUND_KEY) !== "off";
  }

  set soundOn(on: boolean) {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  }

  get canNotify(): boolean {
    return typeof Notification !== "undefined";
  }

  /** The tab title carries the count of urgent items nobody has claimed. */
  showCount(unclaimed: number): void {
    const title = unclaimed > 0 ? `(${unclaimed}) ${this.baseTitle}` : this.baseTitle;
    if (document.title !== title) document.title = title;
  }

  /** A new urgent item arrived. */
  raise(roomTitle: string): void {
    if (this.soundOn) this.chime();
    if (this.canNotify && Notification.permission === "granted" && document.visibilityState !== "visible") {
      try {
        new Notification("Urgent item in the moderation queue", { body: `In ${roomTitle}. Open Haven to answer.`, tag: "haven-urgent" });
      } catch {
        // Some browsers only allow notifications from a service worker: the title still counts.
      }
    }
  }

  async askToNotify(): Promise<NotificationPermission | "unsupported"> {
    if (!this.canNotify) return "unsupported";
    return Notification.requestPermission();
  }

  /** Two soft tones; browsers may refuse sound before the first click, which is fine. */
  private chime(): void {
    try {
      this.audio ??= new AudioContext();
      const now = this.audio.currentTime;
      for (const [offset, frequency] of [[0, 660], [0.18, 880]] as const) {
        const tone = this.audio.createOscillator();
        const gain = this.audio.createGain();
        tone.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, now + offset);
        gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.16);
        tone.connect(gain).connect(this.audio.destination);
        tone.start(now + offset);
        tone.stop(now + offset + 0.18);
      }
      (window as { havenChimes?: number }).havenChimes = ((window as { havenChimes?: number }).havenChimes ?? 0) + 1;
    } catch {
      // No audio here (a locked-down browser): the title and the notification remain.
    }
  }
}
