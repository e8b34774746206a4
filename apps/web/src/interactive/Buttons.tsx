/**
 * Buttons under a message, in rows. A callback button asks the sender's bot and shows its answer
 * (a passing notice, or an alert to dismiss); a URL button opens the link in a new tab, with its
 * domain in view and no window.opener; a reply button sends its label as my message, replying to
 * this one; a copy button copies its text.
 */
import type { Message } from '@mmd/sdk';
import { useState } from 'react';
import { errorText } from '../api.ts';
import { useStoreRef } from '../messenger/context.ts';
import { Dialog } from '../messenger/Dialog.tsx';
import type { ButtonView, InteractionAnswer } from './types.ts';

/** The domain a URL button leads to, shown beside its label. */
export function domainOf(button: { url?: string; domain?: string | null }): string {
  if (button.domain) return button.domain;
  try {
    return new URL(button.url ?? '').hostname;
  } catch {
    return '';
  }
}

/** Only https links open (the server refuses others; this is belt and braces). */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard API (an insecure origin, an old browser): the selection way.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/** One button, whatever its type; `onAnswer` shows a callback's alert. */
export function InteractiveButton(props: { message: Message; button: ButtonView; onAnswer: (answer: NonNullable<InteractionAnswer['answer']>) => void }) {
  const { message, button } = props;
  const store = useStoreRef();
  const [busy, setBusy] = useState(false);
  const delivered = message.status === 'sent' && !message.deleted;

  if (button.type === 'url') {
    const href = safeUrl(button.url);
    const domain = domainOf(button);
    if (!href)
      return (
        <button type="button" className="ib" disabled>
          {button.text}
        </button>
      );
    return (
      <a className="ib url" href={href} target="_blank" rel="noopener noreferrer" title={href}>
        <span className="ib-text">{button.text}</span>
        <span className="ib-domain">
          <span className="visually-hidden">, opens </span>
          {domain}
          <span aria-hidden="true"> ↗</span>
        </span>
      </a>
    );
  }

  const run = async () => {
    if (busy) return;
    if (button.type === 'copy') {
      const copied = button.copy_text ?? button.text;
      const ok = await copyText(copied);
      store.notify(ok ? `Copied “${copied.length > 40 ? `${copied.slice(0, 40)}…` : copied}”` : 'Could not copy: your browser refused.');
      return;
    }
    setBusy(true);
    try {
      const answer = await store.interact(message, { kind: 'button', id: button.id });
      if (answer && (answer.alert || answer.url)) props.onAnswer(answer);
      else if (answer?.text) store.notify(answer.text);
    } catch (err) {
      store.notify(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <button
      type="button"
      className={`ib ${button.type}`}
      disabled={!delivered}
      aria-busy={busy || undefined}
      onClick={() => void run()}
    >
      <span className="ib-text">{button.text}</span>
      {button.type === 'copy' && <span className="ib-domain" aria-hidden="true">⧉</span>}
      {busy && <span className="ib-spinner" aria-hidden="true" />}
    </button>
  );
}

/** The rows of buttons under a message. */
export function ButtonRows({ message, rows }: { message: Message; rows: ButtonView[][] }) {
  const [answer, setAnswer] = useState<NonNullable<InteractionAnswer['answer']> | null>(null);
  return (
    <div className="button-rows">
      {rows.map((row, r) => (
        // Rows never reorder: their index is their identity.
        // biome-ignore lint/suspicious/noArrayIndexKey: see above
        <div key={r} className="button-row">
          {row.map((button) => (
            <InteractiveButton key={button.id} message={message} button={button} onAnswer={setAnswer} />
          ))}
        </div>
      ))}
      {answer && <AnswerAlert answer={answer} from={message.sender_handle} onClose={() => setAnswer(null)} />}
    </div>
  );
}

/** A bot's answer that asked to be read: an alert to dismiss, with its link when it gave one. */
export function AnswerAlert(props: { answer: NonNullable<InteractionAnswer['answer']>; from: string; onClose: () => void }) {
  const href = safeUrl(props.answer.url);
  return (
    <Dialog title={`@${props.from} says`} onClose={props.onClose} role="alertdialog">
      {props.answer.text && <p className="answer-text">{props.answer.text}</p>}
      {href && (
        <p>
          <a href={href} target="_blank" rel="noopener noreferrer">
            Open {domainOf({ url: href })} ↗
          </a>
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="primary" onClick={props.onClose}>
          OK
        </button>
      </div>
    </Dialog>
  );
}
