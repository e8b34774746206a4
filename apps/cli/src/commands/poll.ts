/** `mmd poll create|vote|results|close`, and the `--buttons` / `--quick-replies` syntax of `mmd send`. */
import type { ButtonInput, Message, Poll } from '@mmd/sdk';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { integerIn } from '../args.ts';
import { globals, signedInClient } from '../context.ts';
import { CONV_HELP, resolveConversation } from '../conversation-ref.ts';
import { UsageError } from '../errors.ts';
import { emit } from '../output.ts';

export const BUTTONS_HELP = `rows of buttons (bots and businesses): buttons split by ",", rows by ";" (or repeat the option),
each TEXT:TYPE[:VALUE] with TYPE cb (VALUE = callback data), url (VALUE = https URL),
reply (no VALUE: tapping sends TEXT) or copy (VALUE = text to copy).
e.g. --buttons 'Yes:cb:yes,No:cb:no;Docs:url:https://example.com'`;

const TYPES: Record<string, ButtonInput['type']> = { cb: 'callback', callback: 'callback', url: 'url', reply: 'reply', copy: 'copy' };

/** Parses one --buttons value (and accumulates rows across repeats). */
export function buttonRows(raw: string, rows: ButtonInput[][] = []): ButtonInput[][] {
  for (const rowText of raw.split(';')) {
    if (rowText.trim() === '') continue;
    const row = rowText.split(',').map((spec) => {
      const first = spec.indexOf(':');
      if (first < 0) throw new InvalidArgumentError(`"${spec}": expected TEXT:TYPE[:VALUE]`);
      const text = spec.slice(0, first).trim();
      const rest = spec.slice(first + 1);
      const second = rest.indexOf(':');
      const kind = (second < 0 ? rest : rest.slice(0, second)).trim();
      const value = second < 0 ? undefined : rest.slice(second + 1);
      const type = TYPES[kind];
      if (!text || !type) throw new InvalidArgumentError(`"${spec}": TYPE is cb, url, reply or copy`);
      if (type === 'reply') {
        if (value !== undefined) throw new InvalidArgumentError(`"${spec}": a reply button takes no VALUE`);
        return { type, text };
      }
      if (!value) throw new InvalidArgumentError(`"${spec}": a ${kind} button needs a VALUE`);
      if (type === 'callback') return { type, text, data: value };
      if (type === 'url') return { type, text, url: value };
      return { type, text, copy_text: value };
    });
    rows.push(row);
  }
  return rows;
}

/** --quick-replies 'S,M,L;Cancel' → rows of replies. */
export function quickReplyRows(raw: string, rows: { text: string }[][] = []): { text: string }[][] {
  for (const rowText of raw.split(';')) {
    const row = rowText
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '')
      .map((text) => ({ text }));
    if (row.length > 0) rows.push(row);
  }
  return rows;
}

/** "10m", "2h", "1d", "90s" → milliseconds. */
function duration(raw: string): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(raw.trim());
  if (!m) throw new InvalidArgumentError('expected a duration like 90s, 10m, 2h or 1d');
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** A poll as lines: the question, then each option numbered from 1 with its votes and a bar. */
export function pollLines(poll: Poll): string[] {
  const total = Math.max(1, poll.options.reduce((n, o) => n + o.votes, 0));
  const width = Math.max(...poll.options.map((o) => o.text.length));
  const flags = [poll.anonymous ? 'anonymous' : 'public', poll.multiple ? 'multiple answers' : null, poll.quiz ? 'quiz' : null, poll.closed ? 'closed' : null]
    .filter(Boolean)
    .join(', ');
  const lines = [`${poll.question}  (${flags}; ${poll.voters} ${poll.voters === 1 ? 'voter' : 'voters'})`];
  poll.options.forEach((o, i) => {
    const mine = poll.my_votes.includes(i) ? '*' : ' ';
    const correct = poll.quiz?.correct === i ? ' ✓' : '';
    const bar = '█'.repeat(Math.round((o.votes / total) * 20));
    lines.push(`${mine}${String(i + 1).padStart(2)}. ${o.text.padEnd(width)}  ${String(o.votes).padStart(4)} ${bar}${correct}`);
  });
  if (poll.quiz?.explanation) lines.push(`    ${poll.quiz.explanation}`);
  return lines;
}

export function registerPollCommands(program: Command): void {
  const poll = program.command('poll').description('polls and quizzes: create, vote, results, close');

  poll
    .command('create')
    .description('send a poll (anyone may, in any conversation they can write to)')
    .argument('<conv>', CONV_HELP)
    .argument('<question>', 'the question (up to 300 characters)')
    .argument('<options...>', '2 to 12 options')
    .option('--multiple', 'allow several answers')
    .option('--public', 'not anonymous: members see who voted for what')
    .option('--quiz <n>', 'a quiz whose correct option is number N (from 1)', integerIn(1, 12))
    .option('--explanation <text>', 'shown with the correct answer (quizzes)')
    .option('--closes-in <duration>', 'close automatically after 90s, 10m, 2h, 1d…', duration)
    .action(
      async (
        conv: string,
        question: string,
        options: string[],
        opts: { multiple?: boolean; public?: boolean; quiz?: number; explanation?: string; closesIn?: number },
        cmd: Command,
      ) => {
        if (opts.explanation !== undefined && opts.quiz === undefined) throw new UsageError('--explanation goes with --quiz');
        if (opts.quiz !== undefined && opts.quiz > options.length) throw new UsageError(`--quiz ${opts.quiz}: there are ${options.length} options`);
        const g = globals(cmd);
        const client = signedInClient(g);
        const conversationId = await resolveConversation(client, conv);
        const m = await client.sendPoll(conversationId, {
          question,
          options,
          anonymous: !opts.public,
          multiple: opts.multiple ?? false,
          ...(opts.quiz !== undefined ? { quiz: { correct: opts.quiz - 1, ...(opts.explanation ? { explanation: opts.explanation } : {}) } } : {}),
          ...(opts.closesIn !== undefined ? { closes_at: Date.now() + opts.closesIn } : {}),
        });
        emit(g, m, () => [`sent poll ${m.id} (#${m.seq} in ${m.conversation_id})`, ...pollLines(m.poll!)]);
      },
    );

  poll
    .command('vote')
    .description('vote (replacing your earlier vote); options are numbered from 1, as `mmd poll results` shows them')
    .argument('<message>', 'the poll message id')
    .argument('[options...]', 'option numbers (several for a multiple-answer poll)')
    .option('--retract', 'take your vote back')
    .action(async (messageId: string, options: string[], opts: { retract?: boolean }, cmd: Command) => {
      if (opts.retract && options.length > 0) throw new UsageError('--retract takes no options');
      if (!opts.retract && options.length === 0) throw new UsageError('give an option number, or --retract');
      const chosen = options.map((o) => integerIn(1, 12)(o) - 1);
      const g = globals(cmd);
      const reply = await signedInClient(g).vote(messageId, opts.retract ? [] : chosen);
      emit(g, reply, () => [opts.retract ? 'vote retracted' : 'voted', ...pollLines(reply.poll!)]);
    });

  poll
    .command('results')
    .description('a poll’s counts (and, for public polls with --voters, who chose what)')
    .argument('<message>', 'the poll message id')
    .option('--voters', 'list who voted for each option (public polls)')
    .action(async (messageId: string, opts: { voters?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const m: Message = await client.message(messageId);
      if (!m.poll) throw new UsageError(`${messageId} is not a poll`);
      const voters: Record<number, string[]> = {};
      if (opts.voters) {
        for (let i = 0; i < m.poll.options.length; i++) {
          voters[i] = [];
          for (let after: string | undefined; ; ) {
            const page = await client.pollVoters(messageId, i, { after, limit: 200 });
            voters[i]!.push(...page.voters.map((v) => v.handle));
            if (!page.next) break;
            after = page.next;
          }
        }
      }
      emit(g, opts.voters ? { poll: m.poll, voters } : m.poll, () => {
        const lines = pollLines(m.poll!);
        if (opts.voters) {
          m.poll!.options.forEach((o, i) => {
            lines.push(`${i + 1}. ${o.text}: ${voters[i]!.map((h) => `@${h}`).join(' ') || '—'}`);
          });
        }
        return lines;
      });
    });

  poll
    .command('close')
    .description('close your poll: no more votes')
    .argument('<message>', 'the poll message id')
    .action(async (messageId: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const reply = await signedInClient(g).closePoll(messageId);
      emit(g, reply, () => ['closed', ...(reply.poll ? pollLines(reply.poll) : [])]);
    });
}
