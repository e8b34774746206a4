import { ErrorAlert } from '../error-alert.tsx';
import { Link } from '../router.tsx';

/** What a console form says after a submit: the error (an alert) and the saved message (a polite status). */
export function FormFeedback({ error, saved }: { error: string | null | undefined; saved: string | null | undefined }) {
  return (
    <>
      <ErrorAlert error={error} />
      <p role="status" className="biz-saved">
        {saved}
      </p>
    </>
  );
}

/** A console page's heading, with its "New …" link for those allowed to create. */
export function PageHead({ title, create }: { title: string; create: { label: string; href: string } | null }) {
  return (
    <div className="biz-page-head">
      <h2>{title}</h2>
      {create && (
        <Link className="biz-button primary" href={create.href}>
          {create.label}
        </Link>
      )}
    </div>
  );
}
