/**
 * The safety console (moderators and admins; App.tsx checks): the review queue, spreading clusters, coordinated sharing, protection cases, removal requests, hash banks,
 * takedowns, the audit log, federation peers and the cases they sent, one section per route under /console.
 */
import { Link } from '../router.tsx';
import { Audit } from './Audit.tsx';
import { Banks } from './Banks.tsx';
import { Peers, Received } from './Federation.tsx';
import { Cases } from './Cases.tsx';
import { Erasure } from './Erasure.tsx';
import { Reviews } from './Reviews.tsx';
import { Networks } from './Networks.tsx';
import { Spread } from './Spread.tsx';
import { Takedowns } from './Takedowns.tsx';
import './console.css';

export type ConsoleSection = 'reviews' | 'spreading' | 'networks' | 'cases' | 'erasure' | 'banks' | 'takedowns' | 'audit' | 'peers' | 'received';

const SECTIONS: { section: ConsoleSection; label: string; href: string }[] = [
  { section: 'reviews', label: 'Review queue', href: '/console/reviews' },
  { section: 'spreading', label: 'Spreading', href: '/console/spreading' },
  { section: 'networks', label: 'Coordinated sharing', href: '/console/networks' },
  { section: 'cases', label: 'Protection cases', href: '/console/cases' },
  { section: 'erasure', label: 'Removal requests', href: '/console/erasure' },
  { section: 'banks', label: 'Hash banks', href: '/console/banks' },
  { section: 'takedowns', label: 'Takedowns', href: '/console/takedowns' },
  { section: 'audit', label: 'Audit log', href: '/console/audit' },
  { section: 'peers', label: 'Peers', href: '/console/peers' },
  { section: 'received', label: 'Received cases', href: '/console/received' },
];

export function Console({ section }: { section: ConsoleSection }) {
  return (
    <div className="console">
      <header className="console-header">
        <h1>Safety console</h1>
        <nav aria-label="Safety console sections">
          <ul className="console-nav">
            {SECTIONS.map((s) => (
              <li key={s.section}>
                <Link href={s.href} aria-current={s.section === section ? 'page' : undefined}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      {section === 'reviews' && <Reviews />}
      {section === 'spreading' && <Spread />}
      {section === 'networks' && <Networks />}
      {section === 'cases' && <Cases />}
      {section === 'erasure' && <Erasure />}
      {section === 'banks' && <Banks />}
      {section === 'takedowns' && <Takedowns />}
      {section === 'audit' && <Audit />}
      {section === 'peers' && <Peers />}
      {section === 'received' && <Received />}
    </div>
  );
}
