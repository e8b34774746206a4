/**
 * A message's text with its formatting (`@mmd/contracts/rich-text`): every node becomes a React
 * element whose content is text, so nothing a sender types can become markup. Links open in a new
 * tab without an opener or referrer; spoilers stay hidden until tapped (or Enter/Space).
 */
import { type RichNode, parseRichText } from '@mmd/sdk';
import { type ReactNode, memo, useState } from 'react';

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
      return node.text;
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

/** The formatted text of one message. */
export const RichText = memo(function RichText({ text, className }: { text: string; className?: string }) {
  return <div className={className ?? 'text'}>{render(parseRichText(text))}</div>;
});
