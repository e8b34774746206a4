/** The safety console (moderators only). Placeholder until the console lands. */
export type ConsoleSection = 'reviews' | 'banks' | 'takedowns' | 'audit';
export function Console({ section }: { section: ConsoleSection }) {
  return <section className="card"><h1>Safety console</h1><p>{section}</p></section>;
}
