/**
 * Notifications on this device: alerts for new messages (and Web Push while the app is closed),
 * their tone, and whether pushes may carry a preview of the message.
 */
import { useState } from 'react';
import { errorText, savedToken } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { type NotificationPrefs, disablePush, enablePush, notificationPrefs, pushSupported, saveNotificationPrefs } from '../notifications.ts';
import { useSession } from '../session.tsx';

export function NotificationSettings() {
  const { client } = useSession();
  const [prefs, setPrefs] = useState<NotificationPrefs>(notificationPrefs);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function change(next: NotificationPrefs) {
    setPrefs(next);
    saveNotificationPrefs(next);
    setError(null);
    const token = savedToken();
    if (!pushSupported() || !token) {
      setStatus(next.enabled ? 'Alerts show while MMD is open. This browser cannot receive pushes while it is closed.' : null);
      return;
    }
    setBusy(true);
    try {
      if (!next.enabled) {
        await disablePush(client);
        setStatus(null);
      } else {
        const outcome = await enablePush(client, token, next.previews);
        setStatus(
          outcome === 'subscribed'
            ? 'You will be notified of new messages, also while MMD is closed.'
            : outcome === 'denied'
              ? 'The browser blocks notifications for this site: alerts show inside MMD only. Allow notifications in the site settings to get them while MMD is closed.'
              : 'Alerts show while MMD is open. This browser cannot receive pushes while it is closed.',
        );
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <fieldset className="privacy-choice notification-settings" disabled={busy}>
      <legend>Notifications</legend>
      <p className="hint">On this device. Muted chats stay silent unless someone mentions you.</p>
      <label>
        <input type="checkbox" checked={prefs.enabled} onChange={(e) => void change({ ...prefs, enabled: e.target.checked })} /> Notify me of new messages
      </label>
      <label>
        <input type="checkbox" checked={prefs.sound} disabled={!prefs.enabled} onChange={(e) => void change({ ...prefs, sound: e.target.checked })} /> Play a sound
      </label>
      <label>
        <input type="checkbox" checked={prefs.previews} disabled={!prefs.enabled} onChange={(e) => void change({ ...prefs, previews: e.target.checked })} /> Show message previews in pushes
      </label>
      <p className="hint">
        Without previews a push carries no message content: this device fetches the text itself when it shows the notification. With previews the sender and
        the start of the text travel (encrypted) through your browser's push service.
      </p>
      {status && <p role="status">{status}</p>}
      <ErrorAlert error={error} />
    </fieldset>
  );
}
