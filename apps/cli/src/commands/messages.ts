/** `mmd send` and `mmd history`. */
import { randomUUID } from 'node:crypto';
import { type ButtonInput, type Message, type MmdClient, MmdError } from '@mmd/sdk';
import type { Command } from 'commander';
import { integerIn } from '../args.ts';
import { globals, signedInClient } from '../context.ts';
import { CONV_HELP, resolveConversation } from '../conversation-ref.ts';
import { UsageError } from '../errors.ts';
import { emit, messageLine } from '../output.ts';
import { BUTTONS_HELP, buttonRows, quickReplyRows } from './poll.ts';

const ATTEMPTS = 3;

/** Worth retrying: the request may never have arrived, or the server was briefly unavailable. */
function transient(err: unknown): boolean {
  return (
    err instanceof MmdError &&
    (err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504)
  );
}

/**
 * Sends with retries. Every attempt carries the same idempotency key, so when an earlier attempt
 * did reach the server (and only the answer was lost) the server returns that message instead of
 * posting it twice.
 */
async function sendWithRetry(
  client: MmdClient,
  conversationId: string,
  body: Parameters<MmdClient['send']>[1],
): Promise<Message> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.send(conversationId, body);
    } catch (err) {
      if (attempt >= ATTEMPTS || !transient(err)) throw err;
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}

export function registerMessageCommands(program: Command): void {
  program
    .command('send')
    .description('send a message: text, uploaded media (see `mmd upload`), or both')
    .argument('<conv>', CONV_HELP)
    .argument('[text]', 'the message text (the caption, with --media)')
    .option(
      '--media <id>',
      'attach a media item; repeat for an album (up to 10)',
      (id: string, ids: string[]) => [...ids, id],
      [],
    )
    .option('--reply-to <id>', 'message id this replies to')
    .option('--buttons <rows>', BUTTONS_HELP, (raw: string, rows: ButtonInput[][] | undefined) => buttonRows(raw, rows))
    .option(
      '--quick-replies <rows>',
      "a keyboard replacing the recipient's composer (bots and businesses): replies split by \",\", rows by \";\", e.g. 'S,M,L;Cancel'",
      (raw: string, rows: { text: string }[][] | undefined) => quickReplyRows(raw, rows),
    )
    .option(
      '--idempotency-key <key>',
      'dedupe key (default: a fresh one per invocation, reused by its retries)',
    )
    .action(
      async (
        conv: string,
        text: string | undefined,
        opts: { media: string[]; replyTo?: string; idempotencyKey?: string; buttons?: ButtonInput[][]; quickReplies?: { text: string }[][] },
        cmd: Command,
      ) => {
        if (text === undefined && opts.media.length === 0)
          throw new UsageError('nothing to send: give TEXT, --media ID, or both');
        const g = globals(cmd);
        const client = signedInClient(g);
        const conversationId = await resolveConversation(client, conv);
        const m = await sendWithRetry(client, conversationId, {
          text,
          media: opts.media.length > 0 ? opts.media : undefined,
          reply_to: opts.replyTo,
          idempotency_key: opts.idempotencyKey ?? randomUUID(),
          ...(opts.buttons?.length ? { buttons: opts.buttons } : {}),
          ...(opts.quickReplies?.length ? { quick_replies: { rows: opts.quickReplies } } : {}),
        });
        // A held message (its media still processing, or under review) has no number yet: it takes
        // one when it goes out, so printing one now would name another message.
        emit(g, m, () =>
          m.status === 'pending'
            ? `held ${m.id} in ${m.conversation_id}: it goes out, and takes its number, once its media is ready`
            : `sent ${m.id} (#${m.seq} in ${m.conversation_id})`,
        );
      },
    );

  program
    .command('history')
    .description('print messages, oldest first (the latest page unless --before/--after)')
    .argument('<conv>', CONV_HELP)
    .option('--limit <n>', 'how many messages (1-200)', integerIn(1, 200), 50)
    .option('--before <seq>', 'only messages before this seq (page back)', integerIn(1))
    .option('--after <seq>', 'only messages after this seq (page forward)', integerIn(0))
    .action(async (conv: string, opts: { limit: number; before?: number; after?: number }, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const conversationId = await resolveConversation(client, conv);
      const page = await client.history(conversationId, {
        limit: opts.limit,
        before: opts.before,
        after: opts.after,
      });
      emit(g, page, () => {
        const width = String(page.messages.at(-1)?.seq ?? 0).length;
        const lines = page.messages.map((m) => `${String(m.seq).padStart(width)} ${messageLine(m)}`);
        if (page.messages.length === 0) lines.push('(no messages)');
        return lines;
      });
      // The next page's command goes to stderr, so stdout stays just the messages.
      const edge = opts.after === undefined ? page.messages[0] : page.messages.at(-1);
      if (!g.json && page.has_more && edge) {
        const ref = /^[\w@-]+$/.test(conv) ? conv : `'${conv}'`;
        const more =
          opts.after === undefined
            ? `older messages: mmd history ${ref} --before ${edge.seq}`
            : `newer messages: mmd history ${ref} --after ${edge.seq}`;
        process.stderr.write(`(${more})\n`);
      }
    });
}
