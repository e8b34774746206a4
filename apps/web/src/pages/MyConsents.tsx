/**
 * Settings → Businesses: "why am I getting this". Every business that holds a consent record
 * for the person, what they agreed to per purpose, since when and how, the full record behind it
 * (the words shown, the proof a business gave), and a Stop button for anything they are in.
 */
import type { ConsentEvent, MyConsent } from '@mmd/sdk';
import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { fullDate } from '../messenger/format.ts';
import { useSession } from '../session.tsx';
import { ErrorAlert } from '../error-alert.tsx';

const PURPOSES: Record<string, string> = { marketing: 'Offers and news', surveys: 'Surveys and feedback', support: 'Answers to your questions', transactional: 'Order and account updates' };

/** How an event came about, in the person's terms. */
const HOW: Record<string, string> = {
  chat: 'you wrote to them',
  subscribe_page: 'you subscribed on their page',
  double_opt_in: 'you confirmed in your chat with them',
  keyword: 'you replied with a keyword in the chat',
  unsubscribe_link: 'you used an unsubscribe link',
  self_service: 'you chose it here',
  import: 'the business says you agreed (imported with proof)',
  api: 'the business says you agreed (recorded with proof)',
  erasure: 'your data was erased at your request',
};

function describe(e: ConsentEvent): string {
  const what = e.action === 'opt_in' ? 'Agreed' : 'Stopped';
  return `${what} ${fullDate(e.at)}: ${HOW[e.source] ?? e.source}`;
}

export function MyConsents() {
  const { client } = useSession();
  const [consents, setConsents] = useState<MyConsent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = useCallback(() => {
    client.contacts
      .mine()
      .then(setConsents)
      .catch((err: unknown) => setError(errorText(err)));
  }, [client]);
  useEffect(load, [load]);

  async function stop(c: MyConsent, purpose: string) {
    setError(null);
    try {
      setConsents(await client.contacts.withdraw(c.business.id, purpose));
      setNotice(`@${c.business.handle ?? c.business.id} will not send you ${(PURPOSES[purpose] ?? purpose).toLowerCase()} any more.`);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <>
      <h2 id="businesses">Businesses</h2>
      <p className="hint">Businesses that may message you, what you agreed to and how. Stop anything here at any time, or reply STOP in their chat.</p>
      <ErrorAlert error={error} />
      {notice && (
        <p className="local-note" role="status">
          {notice}
        </p>
      )}
      {consents?.length === 0 && <p className="pane-note">No business holds a consent record for you.</p>}
      {consents?.map((c) => (
        <section key={c.business.id} className="business-consent" aria-label={`@${c.business.handle ?? c.business.id}`}>
          <h3>@{c.business.handle ?? c.business.id}</h3>
          <ul className="pick-list static">
            {Object.entries(c.state).map(([purpose, s]) => {
              const latest = [...c.events].reverse().find((e) => e.purpose === purpose);
              return (
                <li key={purpose} data-purpose={purpose}>
                  <span>
                    <strong>{PURPOSES[purpose] ?? purpose}</strong>: {s.state === 'opted_in' ? 'yes' : 'no'}
                    <span className="hint">{latest ? describe(latest) : ''}</span>
                    {latest?.wording ? <q className="hint">{latest.wording}</q> : null}
                  </span>
                  {purpose === 'transactional' && s.state === 'opted_in' ? <span className="hint">About things you asked for; block the business to stop everything.</span> : null}
                  {s.state === 'opted_in' && purpose !== 'transactional' ? (
                    <button type="button" aria-label={`Stop ${(PURPOSES[purpose] ?? purpose).toLowerCase()} from @${c.business.handle ?? c.business.id}`} onClick={() => void stop(c, purpose)}>
                      Stop
                    </button>
                  ) : null}
                </li>
              );
            })}
          </ul>
          <details>
            <summary>Why am I getting this? The full record</summary>
            <ol className="consent-record">
              {c.events.map((e) => (
                <li key={e.id}>
                  {PURPOSES[e.purpose] ?? e.purpose}: {describe(e)}
                  {e.wording ? (
                    <>
                      {' '}
                      — the words: <q>{e.wording}</q>
                    </>
                  ) : null}
                  {e.evidence && (e.source === 'import' || e.source === 'api') ? <> — their proof: {e.evidence}</> : null}
                  {e.collected_via ? <> — collected via {e.collected_via}</> : null}
                </li>
              ))}
            </ol>
          </details>
        </section>
      ))}
    </>
  );
}
