/**
 * A group's or channel's invite links, for its admins: make one (expiry, member limit, approval),
 * copy it or show it as a QR code, revoke it; and the join requests waiting for approval.
 */
import type { Conversation, InviteLink, JoinRequest } from '@mmd/sdk';
import QRCode from 'qrcode';
import { type FormEvent, useCallback, useEffect, useMemo, useState } from 'react';
import { errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { useStore } from './context.ts';

const EXPIRY = [
  { label: 'Never', seconds: undefined },
  { label: '1 hour', seconds: 60 * 60 },
  { label: '1 day', seconds: 24 * 60 * 60 },
  { label: '7 days', seconds: 7 * 24 * 60 * 60 },
] as const;

/** The link's full address on this server. */
export function inviteUrl(link: Pick<InviteLink, 'path'>): string {
  return `${window.location.origin}${link.path}`;
}

/** A QR code drawn as SVG squares (scales crisply, prints, and needs no canvas or data: URL under the CSP). */
export function QrCode({ text, label, size = 180 }: { text: string; label: string; size?: number }) {
  const { cells, count } = useMemo(() => {
    const modules = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
    const dark: [number, number][] = [];
    for (let row = 0; row < modules.size; row += 1) for (let col = 0; col < modules.size; col += 1) if (modules.get(row, col)) dark.push([col, row]);
    return { cells: dark, count: modules.size };
  }, [text]);
  // Four modules of quiet zone round the code, as scanners expect.
  const box = count + 8;
  return (
    <svg className="qr-code" role="img" aria-label={label} width={size} height={size} viewBox={`-4 -4 ${box} ${box}`} shapeRendering="crispEdges">
      <rect x={-4} y={-4} width={box} height={box} fill="#fff" />
      <path d={cells.map(([x, y]) => `M${x} ${y}h1v1h-1z`).join('')} fill="#000" />
    </svg>
  );
}

function describe(link: InviteLink): string {
  const parts: string[] = [];
  if (link.requires_approval) parts.push('needs approval');
  if (link.member_limit !== null) parts.push(`${link.joined_count} of ${link.member_limit} joined`);
  else parts.push(`${link.joined_count} joined`);
  if (link.expires_at !== null) parts.push(`until ${new Date(link.expires_at).toLocaleString()}`);
  return parts.join(' · ');
}

export function InviteLinks({ conversation }: { conversation: Conversation }) {
  const store = useStore();
  const [links, setLinks] = useState<InviteLink[]>([]);
  const [requests, setRequests] = useState<JoinRequest[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [expiry, setExpiry] = useState(0);
  const [limit, setLimit] = useState('');
  const [approval, setApproval] = useState(false);
  const [shown, setShown] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [l, r] = await Promise.all([store.client.inviteLinks(conversation.id), store.client.joinRequests(conversation.id)]);
      const now = Date.now();
      setLinks(l.links.filter((link) => link.revoked_at === null && (link.expires_at === null || link.expires_at > now)));
      setRequests(r.requests);
    } catch (err) {
      setError(errorText(err));
    }
  }, [store, conversation.id]);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (run: () => Promise<unknown>) => {
    setError(null);
    try {
      await run();
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };

  async function create(event: FormEvent) {
    event.preventDefault();
    const cap = limit.trim() === '' ? undefined : Number(limit);
    await act(async () => {
      const link = await store.client.createInviteLink(conversation.id, {
        expires_in_seconds: EXPIRY[expiry]?.seconds,
        ...(cap !== undefined && !approval ? { member_limit: cap } : {}),
        ...(approval ? { requires_approval: true } : {}),
      });
      setShown(link.id);
    });
  }

  return (
    <section className="invite-links" aria-labelledby="invite-links-title">
      <h3 id="invite-links-title">Invite links</h3>
      <form className="invite-form" onSubmit={create}>
        <label>
          Expires{' '}
          <select value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
            {EXPIRY.map((e, i) => (
              <option key={e.label} value={i}>
                {e.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Member limit{' '}
          <input type="number" min={1} max={100000} inputMode="numeric" value={limit} disabled={approval} onChange={(e) => setLimit(e.target.value)} placeholder="none" />
        </label>
        <label>
          <input type="checkbox" checked={approval} onChange={(e) => setApproval(e.target.checked)} /> Admins approve who joins
        </label>
        <button type="submit" className="primary">
          Create link
        </button>
      </form>
      <ErrorAlert error={error} />
      <ul className="pick-list static invite-list">
        {links.map((link) => (
          <li key={link.id} className="invite-link">
            <div className="invite-link-main">
              <input className="invite-url" readOnly value={inviteUrl(link)} aria-label="Invite link" onFocus={(e) => e.currentTarget.select()} />
              <span className="hint">{describe(link)}</span>
            </div>
            <span className="member-actions">
              <button type="button" onClick={() => void navigator.clipboard?.writeText(inviteUrl(link)).then(() => store.notify('Link copied.'))}>
                Copy
              </button>
              <button type="button" aria-expanded={shown === link.id} onClick={() => setShown(shown === link.id ? null : link.id)}>
                QR code
              </button>
              <button type="button" className="danger" onClick={() => void act(() => store.client.revokeInviteLink(conversation.id, link.id))}>
                Revoke
              </button>
            </span>
            {shown === link.id && <QrCode text={inviteUrl(link)} label={`QR code of the invite link to ${conversation.title ?? 'this conversation'}`} />}
          </li>
        ))}
      </ul>
      {requests.length > 0 && (
        <>
          <h3>Join requests</h3>
          <ul className="pick-list static join-requests">
            {requests.map((r) => (
              <li key={r.account_id}>
                <span className="member-name">@{r.handle}</span>
                <span className="member-actions">
                  <button type="button" aria-label={`Approve: @${r.handle}`} onClick={() => void act(() => store.client.answerJoinRequest(conversation.id, r.account_id, true))}>
                    Approve
                  </button>
                  <button type="button" aria-label={`Decline: @${r.handle}`} onClick={() => void act(() => store.client.answerJoinRequest(conversation.id, r.account_id, false))}>
                    Decline
                  </button>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** Channels: whether posts carry the posting admin's name (off: the channel alone). */
export function SignPostsSetting({ conversation }: { conversation: Conversation }) {
  const store = useStore();
  const [on, setOn] = useState(conversation.sign_posts === true);
  const [error, setError] = useState<string | null>(null);
  const change = async (value: boolean) => {
    setOn(value);
    setError(null);
    try {
      const updated = await store.client.updateConversation(conversation.id, { sign_posts: value });
      store.setSignPosts(conversation.id, updated.sign_posts === true);
    } catch (err) {
      setOn(!value);
      setError(errorText(err));
    }
  };
  return (
    <div className="sign-posts">
      <label>
        <input type="checkbox" checked={on} onChange={(e) => void change(e.target.checked)} /> Sign posts with the admin's name
      </label>
      <ErrorAlert error={error} />
    </div>
  );
}
