/** Conversations: list them, open direct chats, create groups and channels, manage members. */

import type { Conversation } from '@mmd/sdk';
import type { Command } from 'commander';
import { globals, signedInClient } from '../context.ts';
import { CONV_HELP, resolveConversation } from '../conversation-ref.ts';
import { conversationLabel, emit, formatTime, table } from '../output.ts';

const bare = (handle: string) => handle.replace(/^[@#]/, '');

function created(c: Conversation): string {
  return `${c.id}  ${conversationLabel(c)}`;
}

export function registerConversationCommands(program: Command): void {
  program
    .command('chats')
    .description('list your conversations with unread counts')
    .action(async (_opts: object, cmd: Command) => {
      const g = globals(cmd);
      const list = await signedInClient(g).conversations();
      emit(g, list, () =>
        list.length === 0
          ? 'no conversations yet (try `mmd direct HANDLE`)'
          : table([
              ['ID', 'KIND', 'NAME', 'UNREAD', 'LAST'],
              ...list.map((c) => {
                const last = c.last_message as { created_at?: number } | null | undefined;
                return [
                  c.id,
                  c.kind,
                  conversationLabel(c),
                  String(c.unread_count),
                  last?.created_at ? formatTime(last.created_at) : '-',
                ];
              }),
            ]),
      );
    });

  program
    .command('direct')
    .description('open (or find) the direct chat with someone and print its id')
    .argument('<handle>', 'their handle')
    .action(async (handle: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const c = await signedInClient(g).openDirect(bare(handle));
      emit(g, c, () => created(c));
    });

  const group = program.command('group').description('group chats');
  group
    .command('create')
    .description('create a group chat; you are its owner')
    .argument('<title>', 'the group title')
    .option('--member <handles...>', 'people to add (repeatable)', [])
    .action(async (title: string, opts: { member: string[] }, cmd: Command) => {
      const g = globals(cmd);
      const c = await signedInClient(g).createConversation({
        kind: 'group',
        title,
        members: opts.member.map(bare),
      });
      emit(g, c, () => created(c));
    });

  const channel = program.command('channel').description('public channels');
  channel
    .command('create')
    .description('create a channel with a public handle; you are its owner')
    .argument('<handle>', 'the channel handle (@news or news)')
    .option('--title <title>', 'display title')
    .action(async (handle: string, opts: { title?: string }, cmd: Command) => {
      const g = globals(cmd);
      const c = await signedInClient(g).createConversation({
        kind: 'channel',
        handle: bare(handle),
        title: opts.title,
      });
      emit(g, c, () => created(c));
    });
  channel
    .command('join')
    .description('join a channel by its handle')
    .argument('<handle>', 'the channel handle (@news or news)')
    .action(async (handle: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const found = await client.findChannel(bare(handle));
      const c = await client.join(found.id);
      emit(g, c, () => `joined ${created(c)}`);
    });

  const members = program.command('members').description('members of a group or channel');
  members
    .command('list', { isDefault: true })
    .description('list members (first 200)')
    .argument('<conv>', CONV_HELP)
    .action(async (conv: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const page = await client.members(await resolveConversation(client, conv), { limit: 200 });
      emit(g, page, () =>
        table([['ID', 'HANDLE', 'ROLE'], ...page.members.map((m) => [m.account_id, `@${m.handle}`, m.role])]),
      );
    });
  members
    .command('add')
    .description('add someone to a group or channel')
    .argument('<conv>', CONV_HELP)
    .argument('<handle>', 'who to add')
    .action(async (conv: string, handle: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const client = signedInClient(g);
      const m = await client.addMember(await resolveConversation(client, conv), bare(handle));
      emit(g, m, () => ('invited' in m ? `@${m.handle} was invited (their privacy setting); they join if they accept` : `added @${m.handle} as ${m.role}`));
    });
}
