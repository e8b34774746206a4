import type { ProfilePhoto } from '@mmd/sdk';
import { hue, initials } from './format.ts';

/**
 * A profile photo (its blurred placeholder shown until it loads), else initials on a colour of
 * their own; decorative, the name is always written next to it.
 */
export function Avatar({ name, size = 40, photo }: { name: string; size?: number; photo?: ProfilePhoto | null }) {
  if (photo) {
    return (
      <img
        className="avatar photo"
        alt=""
        aria-hidden="true"
        width={size}
        height={size}
        src={size <= 48 ? photo.urls.small : photo.urls.medium}
        style={{ backgroundColor: photo.average_color, backgroundImage: `url(${photo.placeholder})` }}
      />
    );
  }
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
