/** An error the user must notice, read out by screen readers as soon as it appears (nothing when there is none). */
export function ErrorAlert({ error }: { error: string | null | undefined | false }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error}
    </p>
  );
}
