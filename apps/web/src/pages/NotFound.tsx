import { Link } from '../router.tsx';

export function NotFound() {
  return (
    <section className="card">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. Go to <Link href="/">your messages</Link> or{' '}
        <Link href="/protect">protect an image</Link>.
      </p>
    </section>
  );
}
