/**
 * Where a photo or video came from, as the server read it from the original (C2PA content
 * credentials or the XMP digital source type) and as its sender disclosed: "AI-generated",
 * "Edited", "Content credentials: Adobe Inc." (or "— invalid signature" when they fail). Shown in
 * chats, channels and the safety console alike.
 */
import './media.css';

export function ProvenanceLabels({ labels, compact = false }: { labels: string[]; compact?: boolean }) {
  if (labels.length === 0) return null;
  // In an album tile only the first (most important) label fits; the rest are its tooltip.
  const shown = compact ? labels.slice(0, 1) : labels;
  return (
    <ul className={`provenance${compact ? ' compact' : ''}`} aria-label="Provenance" title={compact ? labels.join(' · ') : undefined}>
      {shown.map((label) => (
        <li key={label} className={`provenance-label${/invalid|changed|unreadable/.test(label) ? ' warning' : /AI/.test(label) ? ' ai' : ''}`}>
          {label}
        </li>
      ))}
    </ul>
  );
}
