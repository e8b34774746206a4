export function Settings() {
  return <section className="card"><h1>Settings</h1></section>;
}
