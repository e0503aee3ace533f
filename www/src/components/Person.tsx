// A person: avatar plus display name (or short key), with "you" for ourselves.
import { useApp } from '../node/NodeContext';
import { Avatar } from './Avatar';

export function Person({ author, name, testid }: { author: string; name: string; testid?: string }) {
  const { node } = useApp();
  return (
    <span className="person" data-testid={testid} data-author={author} title={author}>
      <Avatar publicKey={author} size={20} />
      <span className="person-name">{name}</span>
      {author === node.publicKey && <span className="muted"> (you)</span>}
    </span>
  );
}
