/**
 * `/join/<token>`: an invite link to a group or channel. `/c/<handle or id>`: a channel's
 * shareable link (the same path a business's subscribe page uses: handles are one namespace, so
 * a handle names a channel or a business, never both).
 *
 * Both show what they open before anything happens — its name, kind and size — and join only when
 * the person says so. Invite links need signing in (the server previews them to signed-in people
 * only); every link that opens nothing reads the same, as the server answers.
 */
import type { Account, Conversation, InvitePreview } from '@mmd/sdk';
import { Suspense, lazy, useContext, useEffect, useState } from 'react';
import { anonymousClient, errorText } from '../api.ts';
import { navigate } from '../router.tsx';
import { SessionContext } from '../session.tsx';
import { SignIn } from './SignIn.tsx';

const Subscribe = lazy(() => import('./Subscribe.tsx').then((m) => ({ default: m.SubscribePage })));

const members = (n: number, kind: 'group' | 'channel') => `${n.toLocaleString()} ${kind === 'channel' ? (n === 1 ? 'subscriber' : 'subscribers') : n === 1 ? 'member' : 'members'}`;

export function JoinPage({ token }: { token: string }) {
  const session = useContext(SessionContext);
  const [preview, setPreview] = useState<InvitePreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [requested, setRequested] = useState(false);

  useEffect(() => {
    if (!session) return;
    let live = true;
    session.client
      .previewInvite(token)
      .then((p) => {
        if (!live) return;
        setPreview(p);
        setRequested(p.requested);
      })
      .catch((err: unknown) => live && setError((err as { code?: string }).code === 'invite_not_found' ? 'This invite link does not work: it may have been revoked or have expired.' : errorText(err)));
    return () => {
      live = false;
    };
  }, [session, token]);

  useEffect(() => {
    if (preview) document.title = `Join ${preview.title ?? 'a conversation'} · MMD`;
  }, [preview]);

  if (!session) return null;
  if (error)
    return (
      <section className="card narrow join-page">
        <h1>Invite link</h1>
        <p className="error" role="alert">
          {error}
        </p>
      </section>
    );
  if (!preview)
    return (
      <p className="loading" aria-busy="true">
        Loading…
      </p>
    );

  const join = async () => {
    setBusy(true);
    setError(null);
    try {
      const result = await session.client.joinByInvite(token);
      if (result.status === 'joined' && result.conversation_id) navigate(`/chats/${encodeURIComponent(result.conversation_id)}`);
      else setRequested(true);
    } catch (err) {
      setError((err as { code?: string }).code === 'banned' ? 'An admin removed you from this conversation; you can come back only if an admin lets you.' : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const member = preview.conversation_id !== null && !preview.requires_approval && preview.kind === 'group';
  return (
    <section className="card narrow join-page" aria-labelledby="join-title">
      <h1 id="join-title">{preview.title ?? (preview.handle ? `@${preview.handle}` : 'A group')}</h1>
      <p className="hint">
        {preview.kind === 'channel' ? 'Channel' : 'Group'}
        {preview.handle ? ` · @${preview.handle}` : ''} · {members(preview.member_count, preview.kind)}
      </p>
      {requested ? (
        <p role="status">Your request to join was sent. An admin will let you in or decline.</p>
      ) : member ? (
        <button type="button" className="primary" onClick={() => navigate(`/chats/${encodeURIComponent(preview.conversation_id ?? '')}`)}>
          Open
        </button>
      ) : (
        <>
          {preview.requires_approval && <p>An admin approves each person who asks to join.</p>}
          <button type="button" className="primary" disabled={busy} onClick={() => void join()}>
            {preview.requires_approval ? 'Request to join' : preview.kind === 'channel' ? 'Subscribe' : 'Join group'}
          </button>
        </>
      )}
    </section>
  );
}

/** `/c/<handle or id>`: a channel (preview and subscribe), or else a business's subscribe page. */
export function ChannelLinkPage({ handle, onSignedIn }: { handle: string; onSignedIn: (token: string, account: Account) => void }) {
  const session = useContext(SessionContext);
  const [found, setFound] = useState<{ channel: Conversation; member: boolean } | 'business' | 'sign-in' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setFound(null);
    const lookup = async () => {
      if (!session) {
        // Signed out, only a business's page can be read; a channel needs signing in first.
        try {
          await anonymousClient.contacts.subscribePage(handle);
          return 'business' as const;
        } catch {
          return 'sign-in' as const;
        }
      }
      try {
        const channel = await session.client.findChannel(handle);
        const member = await session.client.conversation(channel.id).then(
          (c) => c.my_role !== null,
          () => false,
        );
        return { channel, member };
      } catch (err) {
        if ((err as { status?: number }).status === 404) return 'business' as const;
        throw err;
      }
    };
    lookup()
      .then((result) => live && setFound(result))
      .catch((err: unknown) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [session, handle]);

  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (found === null)
    return (
      <p className="loading" aria-busy="true">
        Loading…
      </p>
    );
  if (found === 'business')
    return (
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <Subscribe handle={handle} onSignedIn={onSignedIn} />
      </Suspense>
    );
  if (found === 'sign-in')
    return (
      <section className="card narrow join-page">
        <h1>@{handle}</h1>
        <p>Sign in to open this channel.</p>
        <SignIn onSignedIn={onSignedIn} />
      </section>
    );
  const { channel, member } = found;
  const subscribe = async () => {
    if (!session) return;
    setBusy(true);
    try {
      await session.client.join(channel.id);
      navigate(`/chats/${encodeURIComponent(channel.id)}`);
    } catch (err) {
      setError((err as { code?: string }).code === 'banned' ? 'An admin removed you from this channel.' : errorText(err));
      setBusy(false);
    }
  };
  return (
    <section className="card narrow join-page" aria-labelledby="channel-title">
      <h1 id="channel-title">{channel.title ?? `@${channel.handle}`}</h1>
      <p className="hint">
        Channel · @{channel.handle} · {members(channel.member_count, 'channel')}
      </p>
      {member ? (
        <button type="button" className="primary" onClick={() => navigate(`/chats/${encodeURIComponent(channel.id)}`)}>
          Open channel
        </button>
      ) : (
        <button type="button" className="primary" disabled={busy} onClick={() => void subscribe()}>
          Subscribe
        </button>
      )}
    </section>
  );
}
