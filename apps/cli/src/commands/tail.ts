/**
 * `mmd tail`: follows conversations live over the SDK's WebSocket stream. The stream resumes from
 * its last cursor after a drop, so nothing is missed or printed twice across reconnects.
 */

import type { Message, MmdClient, SyncEvent } from '@mmd/sdk';
import type { Command } from 'commander';
import { integerIn } from '../args.ts';
import { globals, signedInClient } from '../context.ts';
import { CONV_HELP, resolveConversation } from '../conversation-ref.ts';
import {
  conversationLabel,
  formatTime,
  messageLine,
  printJson,
  printLine,
  reactionsText,
} from '../output.ts';

const MESSAGE_EVENTS = new Set(['message.created', 'message.edited', 'message.deleted', 'reaction.changed']);
/** The stream gives up after these (signed out, or refused by policy): so does tail. */
const FATAL = new Set(['device_revoked', 'api_key_revoked', 'policy_violation']);

/** Conversation names (`@news`, `dm @bob`, a group's title) for lines when following everything. */
function labelCache(client: MmdClient) {
  const labels = new Map<string, Promise<string>>();
  return {
    get(id: string): Promise<string> {
      let label = labels.get(id);
      if (!label) {
        label = client.conversation(id).then(
          (c) => (c.kind === 'direct' ? `dm ${conversationLabel(c)}` : conversationLabel(c)),
          () => id,
        );
        labels.set(id, label);
      }
      return label;
    },
    forget(id: string) {
      labels.delete(id);
    },
  };
}

export function registerTailCommand(program: Command): void {
  program
    .command('tail')
    .description('follow new messages live (with media, edits, deletions and reactions) until Ctrl-C')
    .argument('[conv]', `only this conversation: ${CONV_HELP}`)
    .option(
      '--cursor <n>',
      'first replay every event after this sync cursor (default: only new ones)',
      integerIn(0),
    )
    .action(async (conv: string | undefined, opts: { cursor?: number }, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      // The stream retries a refused connection forever; one HTTP call makes a bad token fail now.
      const me = await client.me();
      const only = conv === undefined ? null : await resolveConversation(client, conv);
      const labels = labelCache(client);
      const note = (s: string) => process.stderr.write(`${s}\n`);

      const render = async (event: SyncEvent): Promise<string> => {
        const where = only || !event.conversation_id ? undefined : await labels.get(event.conversation_id);
        if (event.type === 'message.deleted') {
          const { seq } = event.data as { seq: number };
          return `[${formatTime(event.at)}] ${where ? `${where} | ` : ''}(message #${seq} deleted)`;
        }
        if (event.type === 'reaction.changed') {
          // The event names the message by id; its seq (the number history prints) needs one read.
          const { message_id, reactions } = event.data as {
            message_id: string;
            reactions: Message['reactions'];
          };
          const seq = await client.message(message_id).then(
            (m) => `#${m.seq}`,
            () => message_id,
          );
          return `[${formatTime(event.at)}] ${where ? `${where} | ` : ''}(reactions on message ${seq}: ${reactionsText(reactions) || 'none'})`;
        }
        const m = event.data as Message;
        return messageLine(m, { at: event.type === 'message.edited' ? event.at : m.created_at, where });
      };

      // There is no "latest cursor" call, so without --cursor the stream starts at 0 and the
      // catch-up it sends before `ready` is history, not news: it is skipped, not printed.
      let live = opts.cursor !== undefined;
      let readies = 0;
      // Label look-ups are async; chaining keeps lines in event order.
      let printing = Promise.resolve();
      let finish: (code: number) => void = () => {};
      const finished = new Promise<number>((resolve) => (finish = resolve));

      const stream = client.stream({
        cursor: opts.cursor ?? 0,
        onEvent(event) {
          if (event.type === 'conversation.created' && event.conversation_id)
            labels.forget(event.conversation_id);
          if (!live || !MESSAGE_EVENTS.has(event.type) || (only && event.conversation_id !== only)) return;
          printing = printing.then(async () => (g.json ? printJson(event) : printLine(await render(event))));
        },
        onReady(cursor) {
          live = true;
          const what = only ? (conv ?? only) : 'all conversations';
          note(
            readies++ === 0
              ? `following ${what} as @${me.handle} (cursor ${cursor}); Ctrl-C to stop`
              : `reconnected; resumed after cursor ${cursor}`,
          );
        },
        onError(error) {
          if (FATAL.has(error.code)) {
            note(`error: ${error.detail || 'the server closed the stream'} (${error.code})`);
            finish(1);
          } else {
            note(`warning: ${error.detail} (${error.code}); reconnecting`);
          }
        },
      });
      process.once('SIGINT', () => finish(0));
      process.once('SIGTERM', () => finish(0));

      const code = await finished;
      stream.close();
      await printing;
      process.exitCode = code;
      // Closing the socket is asynchronous; don't hang on a server that never answers the close.
      setTimeout(() => process.exit(code), 500).unref();
    });
}
