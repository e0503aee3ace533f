// The invite link for a festival, ready to copy (or select by hand if the clipboard is refused).
// For a private festival the link carries its current key (in the #fragment), so whoever has
// the link can read the festival: say so next to it.
import { useRef, useState } from 'react';
import { inviteLink } from '../lib/invite';
import { errorText } from '../node/api';
import { useLiveQuery } from '../node/useLiveQuery';
import { LockIcon } from './KindBadge';

export function InviteBox({ festival }: { festival: string }) {
  // Re-read on every change of the festival: removing a member rotates the key.
  const key = useLiveQuery(festival, (node) => node.festivalKey(festival), [festival]);
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  // No link before the key is known: a keyless link to a private festival opens nothing.
  if (key.data === undefined) {
    return key.error !== undefined ? (
      <p className="error-text" role="alert" data-testid="invite-error">
        Couldn’t make the invite link: {errorText(key.error)}
      </p>
    ) : (
      <p aria-busy="true">Making the invite link…</p>
    );
  }
  const link = inviteLink(location.href, festival, key.data);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied('yes');
    } catch {
      input.current?.select();
      setCopied('no');
    }
  };
  return (
    <div className="invite">
      <label htmlFor="invite-link">Invite link: whoever opens it in their browser joins this festival</label>
      <div className="inline-form">
        <input
          id="invite-link"
          ref={input}
          readOnly
          value={link}
          onFocus={(e) => e.currentTarget.select()}
          aria-describedby={key.data ? 'invite-warning' : undefined}
          data-testid="invite-link"
          data-private={key.data ? 'true' : 'false'}
        />
        <button type="button" onClick={() => void copy()} data-testid="invite-copy">
          Copy
        </button>
      </div>
      {key.data && (
        <p className="warn" id="invite-warning" data-testid="invite-warning">
          <LockIcon /> <strong>Anyone with this link can read the festival.</strong> It contains the festival’s key: share it only
          with the people you invite, over a private channel. (The key is after the #, which browsers don’t send to servers.)
        </p>
      )}
      {copied && (
        <small role="status" data-testid="invite-copied">
          {copied === 'yes' ? 'Copied.' : 'Press Ctrl+C (or ⌘C) to copy the selected link.'}
        </small>
      )}
    </div>
  );
}
