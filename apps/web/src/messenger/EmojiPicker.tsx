/**
 * An emoji picker for the composer and for reactions: recent ones first (kept in localStorage),
 * then a set by category, a search by name, and any emoji typed or pasted into the search field.
 * Keyboard: arrows move through the grid, Enter or Space picks, Escape closes (focus goes back to
 * the opener).
 */
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';

const RECENT_KEY = 'mmd.emoji.recent';
const RECENT_MAX = 16;

/** `emoji name name…` per entry; names are what search matches. */
const CATEGORIES: { name: string; emoji: string[] }[] = [
  {
    name: 'Smileys',
    emoji: [
      '😀 grinning smile', '😃 smiley happy', '😄 smile happy', '😁 grin', '😆 laughing', '😅 sweat smile', '😂 joy tears laughing', '🤣 rofl rolling laughing',
      '🙂 slight smile', '😉 wink', '😊 blush', '😇 innocent halo', '🥰 love hearts', '😍 heart eyes', '🤩 star struck', '😘 kiss', '😋 yum', '😛 tongue',
      '😜 wink tongue', '🤪 zany crazy', '🤔 thinking', '🤨 raised eyebrow', '😐 neutral', '😑 expressionless', '😶 no mouth', '🙄 eye roll', '😏 smirk',
      '😬 grimace', '😌 relieved', '😔 pensive', '😪 sleepy', '😴 sleeping', '😷 mask', '🤒 sick thermometer', '🤯 mind blown exploding', '🥳 party partying',
      '😎 cool sunglasses', '🤓 nerd', '😕 confused', '😟 worried', '😮 open mouth wow surprised', '😲 astonished', '😳 flushed', '🥺 pleading', '😢 cry sad',
      '😭 sob crying', '😱 scream', '😤 triumph huff', '😡 angry pout', '🤬 cursing', '💀 skull dead', '💩 poop', '🤡 clown', '👻 ghost', '👽 alien', '🤖 robot',
    ],
  },
  {
    name: 'Gestures',
    emoji: [
      '👍 thumbs up like yes', '👎 thumbs down dislike no', '👌 ok', '✌️ victory peace', '🤞 crossed fingers luck', '🤟 love you', '🤘 rock horns', '👏 clap',
      '🙌 raised hands hooray', '👐 open hands', '🙏 pray please thanks', '🤝 handshake', '💪 muscle strong', '👋 wave hello bye', '👉 point right', '👈 point left',
      '👆 point up', '👇 point down', '✋ hand stop', '🫶 heart hands', '👀 eyes look', '🧠 brain',
    ],
  },
  {
    name: 'Hearts',
    emoji: ['❤️ red heart love', '🧡 orange heart', '💛 yellow heart', '💚 green heart', '💙 blue heart', '💜 purple heart', '🖤 black heart', '🤍 white heart', '💔 broken heart', '💕 two hearts', '💖 sparkling heart', '💯 hundred', '✨ sparkles', '🔥 fire lit', '⭐ star', '🌟 glowing star', '💥 boom collision', '💤 zzz sleep'],
  },
  {
    name: 'Things',
    emoji: ['🎉 tada party celebrate', '🎊 confetti', '🎁 gift present', '🎂 birthday cake', '🍕 pizza', '🍔 burger', '🍟 fries', '🍺 beer', '🍷 wine', '☕ coffee', '🍰 cake', '🍎 apple', '⚽ soccer football', '🏀 basketball', '🎮 game controller', '🎵 music note', '📷 camera', '💻 laptop', '📱 phone', '💡 idea bulb', '📌 pin', '✅ check done', '❌ cross no', '❓ question', '❗ exclamation', '⚠️ warning', '🚀 rocket launch', '🏠 home house', '🌈 rainbow', '☀️ sun', '🌧️ rain', '❄️ snow', '🐶 dog', '🐱 cat', '🦄 unicorn'],
  },
];

const ALL = CATEGORIES.flatMap((c) => c.emoji.map((e) => ({ emoji: e.split(' ')[0]!, names: e.slice(e.indexOf(' ') + 1) })));

// One emoji as typed or pasted (any, not only those listed): pictographs, flags, keycaps, with
// their modifiers and joiners; nothing else.
const ANY_EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3)(?:\uFE0F|\p{Emoji_Modifier}|\u200D(?:\p{Extended_Pictographic})\uFE0F?)*$/u;

/** Recently picked emoji, newest first. */
export function recentEmoji(): string[] {
  try {
    const stored = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as unknown;
    return Array.isArray(stored) ? stored.filter((e): e is string => typeof e === 'string' && ANY_EMOJI.test(e)).slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

function remember(emoji: string) {
  const next = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    // Storage full or disabled: recents are a convenience.
  }
}

export function EmojiPicker(props: { label: string; onPick: (emoji: string) => void; onClose: () => void }) {
  const [query, setQuery] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const recent = useMemo(recentEmoji, []);
  const latestClose = useRef(props.onClose);
  latestClose.current = props.onClose;

  useEffect(() => {
    search.current?.focus();
    const outside = (event: PointerEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) latestClose.current();
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, []);

  const q = query.trim().toLowerCase();
  const typed = ANY_EMOJI.test(query.trim()) ? query.trim() : null;
  const sections: { name: string; emoji: string[] }[] = q
    ? [{ name: 'Results', emoji: [...(typed ? [typed] : []), ...ALL.filter((e) => e.names.includes(q) && e.emoji !== typed).map((e) => e.emoji)] }]
    : [...(recent.length ? [{ name: 'Recent', emoji: recent }] : []), ...CATEGORIES.map((c) => ({ name: c.name, emoji: c.emoji.map((e) => e.split(' ')[0]!) }))];
  const nameOf = (emoji: string) => ALL.find((e) => e.emoji === emoji)?.names.split(' ')[0] ?? emoji;

  const pick = (emoji: string) => {
    remember(emoji);
    props.onPick(emoji);
  };

  const onGridKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const buttons = [...(ref.current?.querySelectorAll<HTMLButtonElement>('.emoji-grid button') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    const columns = 8;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns, Home: -at, End: buttons.length - 1 - at }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    if (event.key === 'ArrowUp' && at < columns) {
      search.current?.focus();
      return;
    }
    buttons[Math.max(0, Math.min(buttons.length - 1, at + step))]?.focus();
  };

  return (
    <div
      ref={ref}
      className="emoji-picker"
      role="dialog"
      aria-label={props.label}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          event.preventDefault();
          props.onClose();
        }
      }}
    >
      <input
        ref={search}
        type="search"
        className="emoji-search"
        placeholder="Search or type an emoji"
        aria-label="Search emoji, or type any emoji"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown') {
            event.preventDefault();
            ref.current?.querySelector<HTMLButtonElement>('.emoji-grid button')?.focus();
          } else if (event.key === 'Enter') {
            event.preventDefault();
            const first = sections[0]?.emoji[0];
            if (first && (q || typed)) pick(first);
          }
        }}
      />
      {/* biome-ignore lint/a11y/noStaticElementInteractions: arrow keys move focus between the grid's buttons */}
      <div className="emoji-sections" onKeyDown={onGridKey}>
        {sections.map((section) => (
          <section key={section.name} aria-label={section.name}>
            <h3 className="emoji-section-title">{section.name}</h3>
            <div className="emoji-grid">
              {section.emoji.map((emoji) => (
                <button key={emoji} type="button" aria-label={`${emoji} ${nameOf(emoji)}`} title={nameOf(emoji)} onClick={() => pick(emoji)}>
                  {emoji}
                </button>
              ))}
            </div>
          </section>
        ))}
        {sections.every((s) => s.emoji.length === 0) && <p className="hint">No emoji match “{query}”.</p>}
      </div>
    </div>
  );
}
