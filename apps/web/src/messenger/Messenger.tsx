export function Messenger({ chatId }: { chatId: string | null }) {
  return <section className="card"><h1>Messages</h1><p>{chatId}</p></section>;
}
