/**
 * Getting a password without leaking it: --password (visible in `ps`, so meant for scripts on
 * trusted machines), a hidden prompt on a terminal, or the first line of stdin when piped
 * (`pass show mmd | mmd login alice`).
 */
import { CliError, UsageError } from './errors.ts';

export async function readPassword(options: { given?: string; confirm?: boolean; rule?: string }): Promise<string> {
  if (options.given !== undefined) return options.given;
  if (process.stdin.isTTY) {
    // Choosing a new password: say what the server will accept before asking for it.
    if (options.rule) process.stderr.write(`${options.rule}\n`);
    const password = await promptHidden('password: ');
    if (options.confirm && (await promptHidden('password again: ')) !== password)
      throw new UsageError('the passwords do not match');
    return password;
  }
  const text = await readStdin();
  const password = text.split(/\r?\n/)[0] ?? '';
  if (!password) throw new UsageError('no password: pass --password, run on a terminal, or pipe it on stdin');
  return password;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal in raw mode so the typed characters are never echoed. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new CliError('interrupted', 'interrupted', 130));
        if (ch === '\u0004' && value === '') return finish(new UsageError('no password given'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}
