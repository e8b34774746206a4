/** What a message offers to act on, under its text: cards, a list, a poll, a form, then buttons. */
import type { Message } from '@mmd/sdk';
import { ButtonRows } from './Buttons.tsx';
import { Cards } from './Cards.tsx';
import { FormCard } from './Form.tsx';
import { ListButton } from './ListSheet.tsx';
import { PollCard } from './Poll.tsx';
import { parts } from './types.ts';
import './interactive.css';

/** True when the message carries something to render here (the bubble widens for it). */
export function hasInteractive(m: Message): boolean {
  const p = parts(m);
  return Boolean(p.cards?.length || p.list || p.poll || p.form || p.buttons?.length);
}

export function Interactive({ message, mine }: { message: Message; mine: boolean }) {
  const p = parts(message);
  if (message.deleted) return null;
  return (
    <>
      {p.cards && p.cards.length > 0 && <Cards message={message} cards={p.cards} />}
      {p.poll && <PollCard message={message} poll={p.poll} mine={mine} />}
      {p.form && <FormCard message={message} form={p.form} mine={mine} />}
      {p.list && <ListButton message={message} list={p.list} />}
      {p.buttons && p.buttons.length > 0 && <ButtonRows message={message} rows={p.buttons} />}
    </>
  );
}

/** "bot" beside a bot's name, and "automated" on what automation wrote. */
export function SenderLabels({ message }: { message: Message }) {
  const p = parts(message);
  return (
    <>
      {p.sender_kind === 'bot' && <span className="bot-badge">bot</span>}
      {p.sender_kind === 'business' && <span className="bot-badge business">business</span>}
      {p.automated && <span className="automated-label">automated</span>}
    </>
  );
}
