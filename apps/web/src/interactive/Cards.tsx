/**
 * Cards: a media header (through the media engine's views: placeholder, preview, video player,
 * blur gate), a title, a description and up to four buttons. Two or more make a carousel that
 * scrolls sideways and snaps card by card: by touch, by mouse (the arrows below), or by keyboard
 * (those arrows, or the arrow keys on the focused strip).
 */
import type { Message } from '@mmd/sdk';
import { useRef, useState } from 'react';
import { MediaView } from '../media/MediaView.tsx';
import { AnswerAlert, InteractiveButton } from './Buttons.tsx';
import type { CardView, InteractionAnswer } from './types.ts';

function Card({ message, card, label, onAnswer }: { message: Message; card: CardView; label?: string; onAnswer: (a: NonNullable<InteractionAnswer['answer']>) => void }) {
  return (
    <article className="ic-card" aria-label={label ?? card.title}>
      {card.media && (
        <div className="ic-card-media">
          <MediaView item={card.media} fill />
        </div>
      )}
      <div className="ic-card-body">
        <p className="ic-card-title">{card.title}</p>
        {card.description && <p className="ic-card-description">{card.description}</p>}
      </div>
      {card.buttons && card.buttons.length > 0 && (
        <div className="ic-card-buttons">
          {card.buttons.map((button) => (
            <InteractiveButton key={button.id} message={message} button={button} onAnswer={onAnswer} />
          ))}
        </div>
      )}
    </article>
  );
}

export function Cards({ message, cards }: { message: Message; cards: CardView[] }) {
  const [answer, setAnswer] = useState<NonNullable<InteractionAnswer['answer']> | null>(null);
  const track = useRef<HTMLDivElement>(null);
  const [at, setAt] = useState(0);
  const alert = answer && <AnswerAlert answer={answer} from={message.sender_handle} onClose={() => setAnswer(null)} />;

  if (cards.length === 1 && cards[0])
    return (
      <div className="ic-cards single">
        <Card message={message} card={cards[0]} onAnswer={setAnswer} />
        {alert}
      </div>
    );

  const cardWidth = () => {
    const first = track.current?.querySelector<HTMLElement>('.ic-card');
    return first ? first.offsetWidth + 8 : (track.current?.clientWidth ?? 0);
  };
  const go = (index: number) => {
    const next = Math.max(0, Math.min(cards.length - 1, index));
    track.current?.scrollTo({ left: next * cardWidth(), behavior: 'smooth' });
    setAt(next);
  };
  const onScroll = () => {
    const width = cardWidth();
    if (width > 0 && track.current) setAt(Math.round(track.current.scrollLeft / width));
  };

  return (
    <section className="ic-cards carousel" aria-roledescription="carousel" aria-label={`${cards.length} cards`}>
      {/* A strip that scrolls must take focus so keyboard users can move along it (arrow keys scroll it, and it snaps card by card). */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: see above */}
      <div className="ic-track" ref={track} tabIndex={0} onScroll={onScroll}>
        {cards.map((card, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: cards never reorder
          <Card key={i} message={message} card={card} label={`${i + 1} of ${cards.length}: ${card.title}`} onAnswer={setAnswer} />
        ))}
      </div>
      <div className="ic-carousel-nav">
        <button type="button" className="icon" aria-label="Previous card" disabled={at <= 0} onClick={() => go(at - 1)}>
          ‹
        </button>
        <span className="ic-carousel-at" aria-live="polite">
          {Math.min(at, cards.length - 1) + 1} / {cards.length}
        </span>
        <button type="button" className="icon" aria-label="Next card" disabled={at >= cards.length - 1} onClick={() => go(at + 1)}>
          ›
        </button>
      </div>
      {alert}
    </section>
  );
}
