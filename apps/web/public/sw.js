/*
 * MMD's service worker: shows a notification for a Web Push while the app is closed.
 *
 * A push carries no message content by default — the chat and message ids and the unread count
 * (apps/server/src/push/service.ts). The text is fetched here with this device's own session,
 * which the page leaves in Cache Storage ("mmd-session") while signed in; without it (signed out,
 * offline, or the message gone) the notification just says "New message". A person who opted in
 * to previews gets the sender and the start of the text in the push itself.
 */
/* eslint-env serviceworker */
const SESSION_CACHE = 'mmd-session';
const TOKEN_KEY = '/__mmd/session-token';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function sessionToken() {
  try {
    const cache = await caches.open(SESSION_CACHE);
    const answer = await cache.match(TOKEN_KEY);
    return answer ? (await answer.text()) || null : null;
  } catch {
    return null;
  }
}

/** The message as this device may read it, or null. */
async function fetchMessage(messageId) {
  const token = await sessionToken();
  if (!token) return null;
  try {
    const answer = await fetch(`/v1/messages/${encodeURIComponent(messageId)}`, { headers: { authorization: `Bearer ${token}` } });
    return answer.ok ? await answer.json() : null;
  } catch {
    return null;
  }
}

function describe(message) {
  if (message.text) return message.text.length > 200 ? `${message.text.slice(0, 199)}…` : message.text;
  const kinds = (message.media || []).map((m) => m.kind);
  if (kinds.includes('image')) return 'Photo';
  if (kinds.includes('video')) return 'Video';
  if (kinds.includes('audio')) return 'Voice message';
  if (kinds.length > 0) return 'File';
  return 'New message';
}

async function show(payload) {
  let title = 'MMD';
  let body = 'New message';
  if (payload.preview) {
    title = payload.preview.sender ? `@${payload.preview.sender}` : title;
    body = payload.preview.text || body;
  } else {
    const message = await fetchMessage(payload.message_id);
    if (message) {
      title = `@${message.sender_handle}`;
      body = describe(message);
    }
  }
  if (typeof payload.unread === 'number' && 'setAppBadge' in navigator) {
    await (payload.unread > 0 ? navigator.setAppBadge(payload.unread) : navigator.clearAppBadge()).catch(() => {});
  }
  await self.registration.showNotification(title, {
    body,
    // One notification per chat: a newer message replaces the older one's.
    tag: `chat:${payload.conversation_id}`,
    renotify: true,
    icon: '/favicon.svg',
    data: { conversation_id: payload.conversation_id, message_id: payload.message_id },
  });
}

self.addEventListener('push', (event) => {
  let payload = null;
  try {
    payload = event.data ? event.data.json() : null;
  } catch {
    payload = null;
  }
  if (payload?.type !== 'message') {
    // A push must show something (browsers penalise silent pushes): say only that there is news.
    event.waitUntil(self.registration.showNotification('MMD', { body: 'New message', icon: '/favicon.svg' }));
    return;
  }
  event.waitUntil(
    (async () => {
      // The app is open, on screen and focused: it alerts by itself (its page knows which chat is
      // open). A window of the origin showing no app page (an API document such as /healthz) does not.
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const isApp = (w) => !/^\/(v1\/|healthz|readyz|openapi\.json)/.test(new URL(w.url).pathname);
      if (windows.some((w) => w.visibilityState === 'visible' && w.focused && isApp(w))) return;
      await show(payload);
    })(),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const id = event.notification.data?.conversation_id;
  const target = id ? `/chats/${encodeURIComponent(id)}` : '/';
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const w of windows) {
        if (new URL(w.url).origin === self.location.origin) {
          await w.focus();
          if ('navigate' in w) await w.navigate(target).catch(() => {});
          return;
        }
      }
      await self.clients.openWindow(target);
    })(),
  );
});
