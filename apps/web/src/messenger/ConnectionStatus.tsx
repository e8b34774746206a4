/** Says when the live connection is down; shown over the list, and in the chat on a phone. */
import { useStore } from './context.ts';

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline — messages will be sent when you are back online',
  live: null,
} as const;

export function ConnectionStatus({ inChat = false }: { inChat?: boolean }) {
  const store = useStore();
  const text = CONNECTION_TEXT[store.connection];
  if (!text) return null;
  return (
    <p className={`connection ${store.connection}${inChat ? ' in-chat' : ''}`} role="status">
      {text}
    </p>
  );
}
