// The invite link for a festival, ready to copy (or select by hand if the clipboard is refused).
import { useRef, useState } from 'react';
import { inviteLink } from '../lib/invite';

export function InviteBox({ festival }: { festival: string }) {
  const link = inviteLink(location.href, festival);
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
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
        <input id="invite-link" ref={input} readOnly value={link} onFocus={(e) => e.currentTarget.select()} data-testid="invite-link" />
        <button type="button" onClick={() => void copy()} data-testid="invite-copy">
          Copy
        </button>
      </div>
      {copied && (
        <small role="status" data-testid="invite-copied">
          {copied === 'yes' ? 'Copied.' : 'Press Ctrl+C (or ⌘C) to copy the selected link.'}
        </small>
      )}
    </div>
  );
}
