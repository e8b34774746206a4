/**
 * The bar at the top of a chat with its pinned messages: it shows one (the newest pin first) and
 * a click jumps to it in the chat; with several, each click moves on to the next, as Telegram does.
 */
import { useState } from 'react';
import { PinIcon } from '../icons.tsx';
import { useStore } from './context.ts';
import { messagePreview } from './format.ts';

export function PinnedBar({ conversationId }: { conversationId: string }) {
  const store = useStore();
  const pins = store.pins.get(conversationId) ?? [];
  const [at, setAt] = useState(0);
  if (pins.length === 0) return null;
  const index = at % pins.length;
  const pin = pins[index]!;
  return (
    <div className="pinned-bar">
      <button
        type="button"
        className="pinned-bar-button"
        aria-label={`Pinned message${pins.length > 1 ? ` ${index + 1} of ${pins.length}` : ''}: ${messagePreview(pin.message)}. Show it in the chat`}
        onClick={() => {
          void store.revealMessage(conversationId, pin.message.id, pin.message.seq);
          setAt(index + 1);
        }}
      >
        <PinIcon />
        <span className="pinned-bar-text">
          <span className="pinned-bar-label">Pinned message{pins.length > 1 ? ` ${index + 1} of ${pins.length}` : ''}</span>
          <span className="pinned-bar-preview">{messagePreview(pin.message)}</span>
        </span>
      </button>
    </div>
  );
}
