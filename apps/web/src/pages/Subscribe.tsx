/**
 * `/c/<business>`: a business's subscribe page, and `/u/<token>`: a one-tap unsubscribe link.
 *
 * Before agreeing to anything a person sees who is asking (the display name, the handle and
 * whether the operator verified it), each purpose in the business's exact words with its own box
 * (none ticked for them), what the business will learn, that nothing is sent until they confirm
 * in their chat, and how to stop. Anyone may read the page; subscribing needs signing in.
 */
import type { Account, SubscribePage as PageInfo, SubscribeReply, UnsubscribeInfo } from '@mmd/sdk';
import { type FormEvent, useContext, useEffect, useState } from 'react';
import { anonymousClient, errorText } from '../api.ts';
import { Link } from '../router.tsx';
import { SessionContext } from '../session.tsx';
import { SignIn } from './SignIn.tsx';
import './subscribe.css';

const PURPOSE_NAMES: Record<string, string> = { marketing: 'Offers and news', surveys: 'Surveys and feedback', support: 'Answers to your questions', transactional: 'Order and account updates' };

export function SubscribePage({ handle, onSignedIn }: { handle: string; onSignedIn: (token: string, account: Account) => void }) {
  const session = useContext(SessionContext);
  const [info, setInfo] = useState<PageInfo | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<SubscribeReply | null>(null);

  useEffect(() => {
    let live = true;
    anonymousClient.contacts
      .subscribePage(handle)
      .then((page) => live && setInfo(page))
      .catch((err: unknown) => live && setLoadError((err as { status?: number }).status === 404 ? `There is no business @${handle} on this server.` : errorText(err)));
    return () => {
      live = false;
    };
  }, [handle]);

  useEffect(() => {
    if (info) document.title = `Subscribe to ${info.business.display_name} · MMD`;
  }, [info]);

  if (loadError)
    return (
      <section className="card narrow">
        <h1>Subscribe</h1>
        <p className="error" role="alert">
          {loadError}
        </p>
      </section>
    );
  if (!info)
    return (
      <p className="loading" aria-busy="true">
        Loading…
      </p>
    );

  const name = info.business.display_name;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!session || chosen.size === 0) return;
    setBusy(true);
    setError(null);
    try {
      setDone(await session.client.contacts.subscribe(handle, [...chosen]));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card subscribe" aria-labelledby="subscribe-title">
      <h1 id="subscribe-title">Get messages from {name}</h1>
      <p className="hint">
        @{info.business.handle} ·{' '}
        {info.business.verified ? (
          <span className="verified">Verified by this server’s operator</span>
        ) : (
          <span>Not verified: the operator has not checked who runs this account</span>
        )}
      </p>

      {done ? (
        <div className="local-note" role="status">
          {done.pending.length > 0 ? (
            <p>
              Almost done. {name} asked you to confirm in your chat with them: reply <strong>YES</strong> there. Nothing is sent for it until you do.
            </p>
          ) : null}
          {done.already.length > 0 ? <p>You were already subscribed to: {done.already.map((p) => PURPOSE_NAMES[p] ?? p).join(', ')}.</p> : null}
          <p>
            <Link href={`/chats/${encodeURIComponent(done.conversation_id)}`}>Open your chat with {name}</Link>
          </p>
        </div>
      ) : (
        <form onSubmit={submit}>
          <fieldset className="purposes">
            <legend>Choose what you agree to. Each box is one thing, in {name}’s own words:</legend>
            {info.purposes.map((p) => (
              <div className="purpose" key={p.key}>
                <input
                  type="checkbox"
                  id={`purpose-${p.key}`}
                  checked={chosen.has(p.key)}
                  onChange={(e) => {
                    const next = new Set(chosen);
                    if (e.target.checked) next.add(p.key);
                    else next.delete(p.key);
                    setChosen(next);
                  }}
                />
                <label htmlFor={`purpose-${p.key}`}>
                  <span className="purpose-name">{PURPOSE_NAMES[p.key] ?? p.key}</span>
                  <q className="wording">{p.wording}</q>
                </label>
              </div>
            ))}
          </fieldset>
          <ul className="hint what-happens">
            <li>{info.notice}</li>
            <li>{name} will see your handle and what you chose, and keeps a record of it that you can see.</li>
            <li>Stop at any time: reply STOP in the chat, or use the unsubscribe button on any message.</li>
          </ul>
          {error ? (
            <p className="error" role="alert">
              {error}
            </p>
          ) : null}
          {session ? (
            session.me.kind === 'person' ? (
              <button type="submit" className="primary" disabled={busy || chosen.size === 0}>
                {busy ? 'Subscribing…' : 'Subscribe'}
              </button>
            ) : (
              <p className="hint">Only people subscribe to a business; you are signed in as @{session.me.handle}.</p>
            )
          ) : null}
        </form>
      )}
      {!session ? (
        <div className="aside">
          <h2>Sign in to subscribe</h2>
          <SignIn onSignedIn={onSignedIn} />
        </div>
      ) : null}
    </section>
  );
}

export function UnsubscribePage({ token }: { token: string }) {
  const [info, setInfo] = useState<UnsubscribeInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  useEffect(() => {
    let live = true;
    // Opening the link changes nothing (mail and link scanners open links): the button does.
    anonymousClient.contacts
      .unsubscribeInfo(token)
      .then((i) => live && setInfo(i))
      .catch((err: unknown) => live && setError((err as { status?: number }).status === 404 ? 'This unsubscribe link is not valid.' : errorText(err)));
    return () => {
      live = false;
    };
  }, [token]);

  const purpose = info ? (PURPOSE_NAMES[info.purpose] ?? info.purpose).toLowerCase() : '';
  return (
    <section className="card narrow">
      <h1>Unsubscribe</h1>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : !info ? (
        <p className="loading" aria-busy="true">
          Loading…
        </p>
      ) : done || info.state === 'opted_out' ? (
        <p role="status">
          {info.business.display_name} will not send you {purpose} any more. You can subscribe again on <Link href={`/c/${encodeURIComponent(info.business.handle)}`}>their page</Link>.
        </p>
      ) : (
        <>
          <p>
            Stop {purpose} from {info.business.display_name} (@{info.business.handle})? You do not need to sign in.
          </p>
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                setInfo(await anonymousClient.contacts.unsubscribe(token));
                setDone(true);
              } catch (err) {
                setError(errorText(err));
              } finally {
                setBusy(false);
              }
            }}
          >
            {busy ? 'Unsubscribing…' : 'Unsubscribe'}
          </button>
        </>
      )}
    </section>
  );
}
