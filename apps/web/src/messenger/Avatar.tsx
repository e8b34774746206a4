import { hue, initials } from './format.ts';

/** Initials on a colour of their own; decorative, the name is always written next to it. */
export function Avatar({ name, size = 40 }: { name: string; size?: number }) {
  return (
    <span
      className="avatar"
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: size * 0.4, background: `hsl(${hue(name)} 55% 45%)` }}
    >
      {initials(name)}
    </span>
  );
}
