/** Line icons drawn here (no icon font to load); decorative — buttons carry their own labels. */
import type { ReactNode } from 'react';

function Svg({ children, size = 22 }: { children: ReactNode; size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      {children}
    </svg>
  );
}

export const AttachIcon = () => (
  <Svg>
    <path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.9-8.9a3.7 3.7 0 0 1 5.2 5.2l-8.9 8.9a1.8 1.8 0 0 1-2.6-2.6l8.3-8.3" />
  </Svg>
);
export const MicIcon = () => (
  <Svg>
    <rect x="9" y="2.5" width="6" height="12" rx="3" />
    <path d="M5 11a7 7 0 0 0 14 0M12 18v3.5M8.5 21.5h7" />
  </Svg>
);
export const SendIcon = () => (
  <Svg>
    <path d="M4 12l16-8-6 16-2.5-6.5z" />
  </Svg>
);
export const GroupIcon = ({ size = 16 }: { size?: number }) => (
  <Svg size={size}>
    <circle cx="9" cy="8" r="3.5" />
    <path d="M2.5 20a6.5 6.5 0 0 1 13 0M16 4.6a3.5 3.5 0 0 1 0 6.8M18 14.5a6.5 6.5 0 0 1 3.5 5.5" />
  </Svg>
);
export const ChannelIcon = ({ size = 16 }: { size?: number }) => (
  <Svg size={size}>
    <path d="M3 10v4h3l7 5V5L6 10zM16.5 8.5a5 5 0 0 1 0 7M19.5 5.5a9 9 0 0 1 0 13" />
  </Svg>
);
export const MoreIcon = () => (
  <Svg>
    <circle cx="5" cy="12" r="1.2" fill="currentColor" />
    <circle cx="12" cy="12" r="1.2" fill="currentColor" />
    <circle cx="19" cy="12" r="1.2" fill="currentColor" />
  </Svg>
);
export const BackIcon = () => (
  <Svg>
    <path d="M15 5l-7 7 7 7" />
  </Svg>
);
export const CloseIcon = ({ size = 18 }: { size?: number }) => (
  <Svg size={size}>
    <path d="M6 6l12 12M18 6L6 18" />
  </Svg>
);
export const ClockIcon = ({ size = 12 }: { size?: number }) => (
  <Svg size={size}>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 7v5l3 2" />
  </Svg>
);
export const ForwardIcon = ({ size = 13 }: { size?: number }) => (
  <Svg size={size}>
    <path d="M14 5l6 6-6 6M20 11H9a5 5 0 0 0-5 5v3" />
  </Svg>
);
export const ReplyIcon = ({ size = 20 }: { size?: number }) => (
  <Svg size={size}>
    <path d="M10 5L4 11l6 6M4 11h11a5 5 0 0 1 5 5v3" />
  </Svg>
);
export const PollIcon = () => (
  <Svg>
    <path d="M5 20V11M12 20V4M19 20v-6" />
  </Svg>
);
export const KeyboardIcon = () => (
  <Svg>
    <rect x="2.5" y="6" width="19" height="12" rx="2" />
    <path d="M6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10" />
  </Svg>
);
export const SearchIcon = ({ size = 20 }: { size?: number }) => (
  <Svg size={size}>
    <circle cx="11" cy="11" r="6.5" />
    <path d="M16 16l4.5 4.5" />
  </Svg>
);
export const MutedIcon = ({ size = 14 }: { size?: number }) => (
  <Svg size={size}>
    <path d="M6 16V11a6 6 0 0 1 9.2-5.1M18 10.5V16l1.5 2H7M10 21h4M3 3l18 18" />
  </Svg>
);
export const PinIcon = ({ size = 14 }: { size?: number }) => (
  <Svg size={size}>
    <path d="M9 3h6l-1 6 4 4H6l4-4zM12 13v8" />
  </Svg>
);
export const StarIcon = ({ size = 14 }: { size?: number }) => (
  <Svg size={size}>
    <path d="M12 3l2.8 5.7 6.2.9-4.5 4.4 1.1 6.2L12 17.3l-5.6 2.9 1.1-6.2L3 9.6l6.2-.9z" />
  </Svg>
);
