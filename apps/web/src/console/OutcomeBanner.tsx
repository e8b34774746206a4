import type { ReactNode } from 'react';

/**
 * What a moderator's last decision did, announced to screen readers (a live region) and shown
 * until closed: a headline, and optionally figures below it.
 */
export function OutcomeBanner({ title, onClose, className, children }: { title: ReactNode; onClose: () => void; className?: string; children?: ReactNode }) {
  return (
    <div className={className ? `outcome ${className}` : 'outcome'} role="status">
      <div className="outcome-head">
        <strong>{title}</strong>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
      {children}
    </div>
  );
}
