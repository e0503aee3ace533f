// The identicon of a public key (see lib/avatar.ts): drawn inline, no image requests.
import { useMemo } from 'react';
import { identicon } from '../lib/avatar';

export function Avatar({ publicKey, size = 28, testid }: { publicKey: string; size?: number; testid?: string }) {
  const icon = useMemo(() => identicon(publicKey), [publicKey]);
  return (
    <svg
      className="avatar"
      width={size}
      height={size}
      viewBox="-0.5 -0.5 6 6"
      aria-hidden="true"
      data-testid={testid}
      data-key={publicKey}
    >
      <rect x="-0.5" y="-0.5" width="6" height="6" rx="1" fill={icon.background} />
      {icon.cells.map((on, i) =>
        on ? <rect key={i} x={i % 5} y={Math.floor(i / 5)} width="1.02" height="1.02" fill={icon.color} /> : null,
      )}
    </svg>
  );
}
