// Proof of consent: each choice is posted to POST /v1/consents with
// fetch(keepalive). Events are sent one at a time, so a later one carries
// the consent token an earlier receipt returned; a failed send (network
// error, 5xx, 429) is retried with the same eventId and body, with backoff,
// and survives a reload in localStorage. Nothing here blocks the UI.

const STORE_KEY = "nexaguard_pending";
const MAX_TRIES = 5;
const MAX_AGE_MS = 29 * 86400000;

/** The server's answer; an impression's has no consent token. */
export interface Receipt {
  eventId: string;
  consentToken?: string;
  recordedAt: string;
}

interface Pending {
  url: string;
  /** The event; `consentToken` is filled in at the first attempt. */
  event: Record<string, unknown>;
  /** The exact body sent, fixed at the first attempt. */
  body?: string;
  tries: number;
}

/** A random UUID v4 (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function uuid(): string {
  return crypto.randomUUID
    ? crypto.randomUUID()
    : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
        (Number(c) ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (Number(c) / 4)))).toString(16),
      );
}

/** Milliseconds to wait before attempt `tries + 1` (1 s, 2 s, 4 s, 8 s), or the server's Retry-After. */
export function backoff(tries: number, retryAfterSeconds?: number | null): number {
  const base = 1000 * Math.pow(2, Math.max(0, tries - 1));
  return retryAfterSeconds && retryAfterSeconds > 0 ? Math.max(base, retryAfterSeconds * 1000) : base;
}

export class ProofQueue {
  private _queue: Pending[] = [];
  private _busy = false;

  constructor(
    private _siteKey: string,
    private _token: () => string | undefined,
    private _onReceipt: (r: Receipt) => void,
    private _onTokenRejected: () => void,
  ) {
    // Events of this site that an earlier page could not deliver.
    const now = Date.now();
    this._queue = this._load().filter((p) => {
      const ts = Date.parse(String(p.event.timestamp));
      return p.event.siteKey === _siteKey && now - ts < MAX_AGE_MS;
    });
  }

  /** Queues an event and starts sending. */
  add(url: string, event: Record<string, unknown>): void {
    this._queue.push({ url, event, tries: 0 });
    this._save();
    this._pump();
  }

  /** Starts sending whatever is pending (after a reload). */
  resume(): void {
    this._pump();
  }

  private _load(): Pending[] {
    try {
      const all = JSON.parse(localStorage.getItem(STORE_KEY) || "[]");
      return Array.isArray(all) ? all : [];
    } catch (_) {
      return [];
    }
  }

  private _save(): void {
    try {
      const others = this._load().filter((p) => p.event && p.event.siteKey !== this._siteKey);
      const all = others.concat(this._queue);
      if (all.length) localStorage.setItem(STORE_KEY, JSON.stringify(all));
      else localStorage.removeItem(STORE_KEY);
    } catch (_) {
      // storage unavailable: retries still happen while the page lives
    }
  }

  private _done(p: Pending): void {
    const i = this._queue.indexOf(p);
    if (i >= 0) this._queue.splice(i, 1);
    this._save();
  }

  private _pump(): void {
    if (this._busy || !this._queue.length) return;
    const p = this._queue[0];
    if (p.body === undefined) {
      const token = this._token();
      // Impressions carry no consent state, so no token either.
      if (token && !p.event.consentToken && p.event.kind !== "impression") p.event.consentToken = token;
      p.body = JSON.stringify(p.event);
    }
    this._busy = true;
    const next = (delay: number) => {
      this._busy = false;
      if (delay < 0) this._pump();
      else setTimeout(() => this._pump(), delay);
    };
    const retry = (retryAfter?: number | null) => {
      p.tries++;
      if (p.tries >= MAX_TRIES) {
        console.warn("NexaGuard: consent event " + p.event.eventId + " could not be recorded");
        this._done(p);
        next(-1);
      } else {
        this._save();
        next(backoff(p.tries, retryAfter));
      }
    };
    fetch(p.url, {
      method: "POST",
      keepalive: true,
      credentials: "omit",
      headers: { "content-type": "application/json" },
      body: p.body,
    }).then(
      (res) => {
        if (res.status === 201 || res.status === 200) {
          return res.json().then(
            (r: Receipt) => {
              this._done(p);
              this._onReceipt(r);
              next(-1);
            },
            () => {
              this._done(p);
              next(-1);
            },
          );
        }
        if (res.status === 429 || res.status >= 500) {
          return retry(Number(res.headers.get("retry-after")) || null);
        }
        return res
          .json()
          .catch(() => ({}))
          .then((body: { error?: { code?: string; message?: string } }) => {
            const err = (body && body.error) || {};
            if ((err.code === "unknown_consent_token" || err.code === "invalid_consent_token") && p.event.consentToken) {
              // Nothing was recorded: send the same event without the token.
              this._onTokenRejected();
              delete p.event.consentToken;
              p.body = JSON.stringify(p.event);
              this._save();
              next(-1);
              return;
            }
            console.warn("NexaGuard: consent event refused (" + res.status + " " + (err.code || "") + "): " + (err.message || ""));
            this._done(p);
            next(-1);
          });
      },
      () => retry(null),
    );
  }
}
