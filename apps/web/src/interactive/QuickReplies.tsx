/**
 * Quick replies: a keyboard a bot or business sends that takes the composer's place. The newest
 * one in the chat (from someone else) applies, until a later one replaces or removes it; a
 * one-time keyboard goes once I have answered; a persistent one comes back after I type.
 */
import type { Keyboard } from './keyboard.ts';

export function QuickReplyKeyboard({ keyboard, onPick }: { keyboard: Keyboard; onPick: (text: string) => void }) {
  return (
    <fieldset className="quick-replies">
      <legend className="visually-hidden">Quick replies from @{keyboard.message.sender_handle}</legend>
      {keyboard.rows.map((row, r) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows never reorder
        <div key={r} className="quick-replies-row">
          {row.map((key, k) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: keys may repeat a label
            <button key={k} type="button" onClick={() => onPick(key.text)}>
              {key.text}
            </button>
          ))}
        </div>
      ))}
    </fieldset>
  );
}
