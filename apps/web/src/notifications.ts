/**
 * Not missing a message: this device's notification choices (on/off, sound, previews), the
 * in-page alert for a message arriving while the app is in another tab or another chat is open
 * (a system notification when permitted, else a toast, and a short tone), the app badge, and Web
 * Push for when the app is closed (the service worker, public/sw.js, shows those).
 */
import type { MmdClient } from '@mmd/sdk';

export interface NotificationPrefs {
  /** Alerts for new messages (in the page and, where the browser allows, pushes while closed). */
  enabled: boolean;
  /** A short tone with each alert. */
  sound: boolean;
  /** Pushes carry the sender and the start of the text (off: the device fetches them itself). */
  previews: boolean;
}

const PREFS_KEY = 'mmd.notifications';
const DEFAULT_PREFS: NotificationPrefs = { enabled: true, sound: true, previews: false };
/** Where the service worker finds this device's session to fetch a pushed message's text. */
const SESSION_CACHE = 'mmd-session';
const TOKEN_KEY = '/__mmd/session-token';

export function notificationPrefs(): NotificationPrefs {
  try {
    const saved = JSON.parse(window.localStorage.getItem(PREFS_KEY) ?? '{}') as Partial<NotificationPrefs>;
    return { ...DEFAULT_PREFS, ...saved };
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function saveNotificationPrefs(prefs: NotificationPrefs) {
  try {
    window.localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // Private browsing without storage: the choice lasts as long as the tab.
  }
}

let audio: AudioContext | null = null;
/** A short two-note chime, made on the spot (no sound file to fetch). */
function chime() {
  try {
    audio ??= new AudioContext();
    const ctx = audio;
    const now = ctx.currentTime;
    for (const [i, freq] of [880, 1320].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.15, now + i * 0.12 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.12 + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + i * 0.12);
      osc.stop(now + i * 0.12 + 0.2);
    }
  } catch {
    // No audio (autoplay policy before any click, or no output): the alert itself still shows.
  }
}

/**
 * Tells the person about a message that arrived where they are not looking: a system
 * notification when they allowed them, else a toast (`toast`), and the tone when sound is on.
 */
export function alertNewMessage(options: { title: string; body: string; conversationId: string; toast: (text: string) => void; open: (conversationId: string) => void }) {
  const prefs = notificationPrefs();
  if (!prefs.enabled) return;
  const system = typeof Notification !== 'undefined' && Notification.permission === 'granted';
  if (system) {
    try {
      const n = new Notification(options.title, { body: options.body, tag: `chat:${options.conversationId}`, icon: '/favicon.svg' });
      n.onclick = () => {
        window.focus();
        options.open(options.conversationId);
        n.close();
      };
    } catch {
      options.toast(`${options.title}: ${options.body}`);
    }
  } else options.toast(`${options.title}: ${options.body}`);
  if (prefs.sound) chime();
}

/** The unread total on the app's icon, where the browser has badges (installed apps). */
export function setBadge(count: number) {
  const nav = navigator as Navigator & { setAppBadge?: (n?: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
  if (!nav.setAppBadge || !nav.clearAppBadge) return;
  (count > 0 ? nav.setAppBadge(count) : nav.clearAppBadge()).catch(() => {});
}

export function pushSupported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && window.isSecureContext;
}

/** Leaves this device's session where the service worker can read it (or takes it away). */
export async function shareSessionWithWorker(token: string | null) {
  if (typeof caches === 'undefined') return;
  try {
    const cache = await caches.open(SESSION_CACHE);
    if (token) await cache.put(TOKEN_KEY, new Response(token, { headers: { 'content-type': 'text/plain' } }));
    else await cache.delete(TOKEN_KEY);
  } catch {
    // No Cache Storage (some private modes): pushes then say "New message".
  }
}

async function registration(): Promise<ServiceWorkerRegistration> {
  await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  return navigator.serviceWorker.ready;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/**
 * Subscribes this browser to Web Push and registers it with the server (again, to update
 * `previews`). Asks for notification permission first; answers why not when it cannot.
 */
export async function enablePush(client: MmdClient, token: string, previews: boolean): Promise<'subscribed' | 'unsupported' | 'denied'> {
  if (!pushSupported()) return 'unsupported';
  const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
  if (permission !== 'granted') return 'denied';
  const reg = await registration();
  const { public_key } = await client.pushVapidKey();
  let sub = await reg.pushManager.getSubscription();
  // Made with another server key (the server's data was reset): it can never be used, start again.
  const current = sub?.options.applicationServerKey;
  if (sub && current && btoa(String.fromCharCode(...new Uint8Array(current))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') !== public_key) {
    await sub.unsubscribe();
    sub = null;
  }
  sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) });
  const json = sub.toJSON() as { endpoint: string; expirationTime?: number | null; keys: { p256dh: string; auth: string } };
  await client.subscribePush({ endpoint: json.endpoint, expirationTime: json.expirationTime ?? null, keys: json.keys, previews });
  await shareSessionWithWorker(token);
  return 'subscribed';
}

/** Stops pushes to this browser: the server forgets the subscription and the browser drops it. */
export async function disablePush(client: MmdClient | null) {
  await shareSessionWithWorker(null);
  if (!pushSupported()) return;
  const reg = await navigator.serviceWorker.getRegistration('/');
  const sub = await reg?.pushManager.getSubscription();
  if (!sub) return;
  if (client) {
    // The list is this device's own subscriptions: all of them go.
    for (const s of await client.pushSubscriptions().catch(() => [])) await client.unsubscribePush(s.id).catch(() => {});
  }
  await sub.unsubscribe().catch(() => false);
}
