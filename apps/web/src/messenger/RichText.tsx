/**
 * A message's text with its formatting (`@mmd/contracts/rich-text`): every node becomes a React
 * element whose content is text, so nothing a sender types can become markup. Links open in a new
 * tab without an opener or referrer; spoilers stay hidden until tapped (or Enter/Space).
 * Mentions: only the handles the server resolved (`message.mentions`, members of the group) are
 * highlighted; a mention of me is marked apart, for the eye and for screen readers.
 */
import { type MentionRef, type RichNode, parseRichText } from '@mmd/sdk';
import { type ReactNode, createContext, memo, useContext, useMemo, useState } from 'react';

/** The handles a message mentions (lower-cased → account id) and who is reading. */
const MentionContext = createContext<{ byHandle: ReadonlyMap<string, string>; meId: string | null } | null>(null);
const MENTION = /(^|[^A-Za-z0-9_@./])@([A-Za-z][A-Za-z0-9_]{2,31})(?![A-Za-z0-9_])/g;

/** A text node with the resolved mentions in it highlighted; everything else stays plain text. */
function MentionedText({ text }: { text: string }) {
  const mentions = useContext(MentionContext);
  if (!mentions || mentions.byHandle.size === 0 || !text.includes('@')) return <>{text}</>;
  const out: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(MENTION)) {
    const accountId = mentions.byHandle.get(match[2]!.toLowerCase());
    if (!accountId) continue;
    const start = match.index + match[1]!.length;
    if (start > last) out.push(text.slice(last, start));
    const me = accountId === mentions.meId;
    out.push(
      <span key={start} className={`mention${me ? ' mention-me' : ''}`} data-account-id={accountId}>
        {me && <span className="visually-hidden">Mentions you: </span>}@{match[2]}
      </span>,
    );
    last = start + 1 + match[2]!.length;
  }
  if (last === 0) return <>{text}</>;
  if (last < text.length) out.push(text.slice(last));
  return <>{out}</>;
}

function Spoiler({ children }: { children: ReactNode }) {
  const [shown, setShown] = useState(false);
  if (shown) return <span className="spoiler shown">{children}</span>;
  // Its label says what it is until revealed: a screen reader must not read the hidden text either.
  return (
    <button type="button" className="spoiler" aria-label="Spoiler, hidden: show" onClick={() => setShown(true)}>
      <span aria-hidden="true">{children}</span>
    </button>
  );
}

function render(nodes: readonly RichNode[]): ReactNode[] {
  const out: ReactNode[] = [];
  nodes.forEach((node, at) => {
    // A code block is a block of its own: the line breaks written around its fences would add blank lines.
    if (node.type === 'text' && (nodes[at - 1]?.type === 'pre' || nodes[at + 1]?.type === 'pre')) {
      let text = node.text;
      if (nodes[at - 1]?.type === 'pre') text = text.replace(/^\n/, '');
      if (nodes[at + 1]?.type === 'pre') text = text.replace(/\n$/, '');
      out.push(renderNode({ type: 'text', text }, `n${out.length}`));
      return;
    }
    out.push(renderNode(node, `n${out.length}`));
  });
  return out;
}

function renderNode(node: RichNode, i: string): ReactNode {
  switch (node.type) {
    case 'text':
      return <MentionedText key={i} text={node.text} />;
    case 'bold':
      return <strong key={i}>{render(node.children)}</strong>;
    case 'italic':
      return <em key={i}>{render(node.children)}</em>;
    case 'strike':
      return <s key={i}>{render(node.children)}</s>;
    case 'spoiler':
      return <Spoiler key={i}>{render(node.children)}</Spoiler>;
    case 'code':
      return <code key={i}>{node.text}</code>;
    case 'pre':
      return (
        <pre key={i}>
          <code>{node.text.replace(/^\n/, '').replace(/\n$/, '')}</code>
        </pre>
      );
    case 'link':
      // The parser only makes links of http(s) URLs that parse; checked again here all the same.
      return /^https?:\/\//i.test(node.url) ? (
        <a key={i} href={node.url} target="_blank" rel="noopener noreferrer nofollow ugc">
          {node.text}
        </a>
      ) : (
        node.text
      );
    default:
      return null;
  }
}

/** The formatted text of one message; `mentions` (the message's) are highlighted, mine marked. */
export const RichText = memo(function RichText({
  text,
  className,
  mentions,
  meId,
}: {
  text: string;
  className?: string;
  mentions?: readonly MentionRef[];
  meId?: string | null;
}) {
  const context = useMemo(
    () => (mentions && mentions.length > 0 ? { byHandle: new Map(mentions.map((m) => [m.handle.toLowerCase(), m.account_id])), meId: meId ?? null } : null),
    [mentions, meId],
  );
  return (
    <MentionContext.Provider value={context}>
      <div className={className ?? 'text'}>{render(parseRichText(text))}</div>
    </MentionContext.Provider>
  );
});
