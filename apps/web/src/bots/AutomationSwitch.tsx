/**
 * In a business's direct chat header: who has the chat, automation or a person, and a button to
 * take it over or hand it back. Renders nothing for other accounts or when automation is off.
 */
import type { ConversationAutomation } from '@mmd/sdk';
import { useEffect, useState } from 'react';
import { errorText } from '../api.ts';
import { useSession } from '../session.tsx';
import './automation.css';

export function AutomationSwitch({ conversationId, lastSeq }: { conversationId: string; lastSeq: number }) {
  const { client, me } = useSession();
  const business = me.kind === 'business';
  const [enabled, setEnabled] = useState(false);
  const [state, setState] = useState<ConversationAutomation | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!business) return;
    let live = true;
    client.automation
      .settings()
      .then((s) => live && setEnabled(s.enabled))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [client, business]);

  // A message sent by hand takes the chat over on the server: re-read the state as messages arrive.
  useEffect(() => {
    if (!business || !enabled || lastSeq < 0) return;
    let live = true;
    client.automation
      .conversation(conversationId)
      .then((s) => live && setState(s))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [client, business, enabled, conversationId, lastSeq]);

  if (!business || !enabled || !state) return null;
  const human = state.state === 'human';
  return (
    <div className="automation-switch">
      <span className="hint">{human ? 'A person has this chat' : 'Automation answers'}</span>
      <button
        type="button"
        onClick={() => {
          setError(null);
          client.automation
            .handover(conversationId, human ? 'bot' : 'human')
            .then(setState)
            .catch((err: unknown) => setError(errorText(err)));
        }}
      >
        {human ? 'Hand back to automation' : 'Take over'}
      </button>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
