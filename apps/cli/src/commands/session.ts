/** `mmd login`, `mmd logout`, `mmd whoami`: the session saved for the chosen server. */
import { hostname } from 'node:os';
import { MmdClient, MmdError } from '@mmd/sdk';
import type { Command } from 'commander';
import { anonymousClient, globals, signedInClient } from '../context.ts';
import { loadSession, removeSession, saveSession } from '../credentials.ts';
import { CliError } from '../errors.ts';
import { emit } from '../output.ts';
import { readPassword } from '../password.ts';

/** Names the device so `mmd devices` on another machine shows which one to revoke. */
export function defaultDeviceName(): string {
  return `mmd on ${hostname()}`.slice(0, 64);
}

/** Saves a new session and says so: the same for `account create` and `login`. */
export function rememberSession(
  g: ReturnType<typeof globals>,
  reply: { token: string; account: { id: string; handle: string }; device: { id: string; name: string } },
  describe: string,
): void {
  saveSession(g.server, { token: reply.token, handle: reply.account.handle, account_id: reply.account.id, device_id: reply.device.id });
  emit(g, { account: reply.account, device: reply.device }, () => describe);
}

export function registerSessionCommands(program: Command): void {
  program
    .command('login')
    .description('sign in and save the session for this server')
    .argument('<handle>', 'your handle')
    .option('--password <password>', 'the password (otherwise prompted on a terminal, or read from stdin)')
    .option('--device <name>', 'name for this device', defaultDeviceName())
    .action(async (handle: string, opts: { password?: string; device: string }, cmd: Command) => {
      const g = globals(cmd);
      const password = await readPassword({ given: opts.password });
      const reply = await anonymousClient(g).login({
        handle: handle.replace(/^@/, ''),
        password,
        device_name: opts.device,
      });
      rememberSession(g, reply, `signed in as @${reply.account.handle} on ${g.server} (device "${reply.device.name}")`);
    });

  program
    .command('logout')
    .description('sign this device out on the server and forget the saved session')
    .action(async (_opts: object, cmd: Command) => {
      const g = globals(cmd);
      const saved = loadSession(g.server);
      if (!saved) throw new CliError(`no saved session for ${g.server}`, 'unauthenticated');
      try {
        await new MmdClient({ baseUrl: g.server, token: saved.token }).revokeDevice(saved.device_id);
      } catch (err) {
        // Already signed out elsewhere, or expired from disuse: the token is dead, so forgetting
        // it is all that is left.
        // Anything else (server unreachable) keeps the session, so `mmd logout` can be retried
        // rather than leaving a live token behind.
        if (!(err instanceof MmdError && (err.code === 'unauthenticated' || err.code === 'session_expired' || err.code === 'not_found')))
          throw err;
      }
      removeSession(g.server);
      emit(
        g,
        { server: g.server, signed_out: saved.handle },
        () => `signed out @${saved.handle} from ${g.server}`,
      );
    });

  program
    .command('whoami')
    .description('show the account you are signed in as')
    .action(async (_opts: object, cmd: Command) => {
      const g = globals(cmd);
      const me = await signedInClient(g).me();
      const via = process.env.MMD_TOKEN ? ' (token from MMD_TOKEN)' : '';
      emit(g, me, () => `@${me.handle} (${me.kind}, ${me.role}) on ${g.server}${via}`);
    });
}
