// Identity and settings: avatar and key, display name, backup (export / import of the secret
// key) and switching between identities stored in this browser.
import { useState, type FormEvent } from 'react';
import { openNode } from 'p2panda';
import { KeyPair } from 'p2panda/p2panda_wasm.js';
import { nodeConfig } from '../lib/config';
import { href } from '../lib/route';
import { knownStores, rememberStore, setActiveStore } from '../lib/storage';
import { validateSecretKey } from '../lib/validation';
import { AppError } from '../node/api';
import { useApp } from '../node/NodeContext';
import { useAction } from '../hooks/useAction';
import { Avatar } from '../components/Avatar';
import { DisplayNameForm } from '../components/DisplayNameForm';
import { ActionError, Field } from '../components/Field';

export function Settings() {
  const { node, store } = useApp();
  const config = nodeConfig(new URL(location.href));
  return (
    <div className="stack">
      <section className="card" data-testid="identity">
        <h1>You</h1>
        <div className="identity">
          <Avatar publicKey={node.publicKey} size={72} testid="identity-avatar" />
          <div>
            <div className="muted small">Public key (others see this; your avatar is drawn from it)</div>
            <code className="break" data-testid="my-public-key">{node.publicKey}</code>
            <div className="muted small">Stored in this browser as “{store}”.</div>
          </div>
        </div>
        <DisplayNameForm />
      </section>
      <ExportKey />
      <ImportKey />
      <Stores />
      <section className="card">
        <h2>Connection</h2>
        <p data-testid="settings-rendezvous">
          Rendezvous: {config.rendezvous.length ? config.rendezvous.join(', ') : 'none (other tabs, connected peers and invite codes still work)'}
        </p>
        <p className="muted small">
          Add <code>?rendezvous=ws://host:port</code> to the address to use another one.
          {config.loopbackOnly && ' Loopback-only connections (test mode).'}
        </p>
        <p>
          <a href={href({ page: 'bench' })} data-testid="nav-bench">Schedule benchmark</a> (creates a festival with many events)
        </p>
      </section>
    </div>
  );
}

function ExportKey() {
  const { node } = useApp();
  const [secret, setSecret] = useState<string | null>(null);
  const reveal = useAction(async () => setSecret(await node.exportSecretKey()));
  const download = () => {
    if (!secret) return;
    const url = URL.createObjectURL(new Blob([`${secret}\n`], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `p2panda-secret-key-${node.publicKey.slice(0, 8)}.txt`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section className="card" data-testid="key-export">
      <h2>Back up your key</h2>
      <p className="warn" role="note" data-testid="key-export-warning">
        <strong>Keep this secret.</strong> Anyone with your secret key can act as you in every festival, and nobody can
        take that back. Store it like a password, offline if you can. Never paste it into a chat or a website.
        Use it on one device at a time: signing from two devices at once forks your log, and peers then freeze it.
      </p>
      {secret === null ? (
        <button type="button" disabled={reveal.busy} onClick={() => void reveal.run()} data-testid="key-export-reveal">
          Show my secret key
        </button>
      ) : (
        <>
          <label htmlFor="secret-out">Your secret key</label>
          <textarea id="secret-out" readOnly rows={2} value={secret} onFocus={(e) => e.currentTarget.select()} data-testid="key-export-value" />
          <div className="actions">
            <button type="button" onClick={download} data-testid="key-export-download">
              Download as file
            </button>
            <button type="button" onClick={() => setSecret(null)} data-testid="key-export-hide">
              Hide
            </button>
          </div>
        </>
      )}
      <ActionError error={reveal.error} testid="key-export-error" />
    </section>
  );
}

function ImportKey() {
  const { node } = useApp();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const importKey = useAction(async (secret: string) => {
    let publicKey: string;
    try {
      const pair = KeyPair.fromSecret(secret);
      publicKey = pair.publicKey();
      pair.free();
    } catch {
      throw new AppError('INVALID_ARGUMENT', 'That is not a valid secret key.');
    }
    if (publicKey === node.publicKey) throw new AppError('SAME_KEY', 'This is the key you are using already.');
    const known = knownStores().find((s) => s.publicKey === publicKey);
    let name = known?.name;
    if (!name) {
      // A fresh store for the imported identity: the current one stays as it is.
      name = `key-${publicKey.slice(0, 16)}`;
      const imported = await openNode({ name, secretKey: secret, broadcastChannel: false });
      await imported.close();
      rememberStore({ name, publicKey });
    }
    setActiveStore(name);
    location.reload();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateSecretKey(text);
    if (!result.ok) return setError(result.errors.key);
    setError(undefined);
    void importKey.run(result.value);
  };
  return (
    <section className="card" data-testid="key-import">
      <h2>Use a backed-up key</h2>
      <p>
        Paste a secret key you exported earlier. The app switches to that identity; the current one stays stored in
        this browser and you can switch back below.
      </p>
      <form onSubmit={submit} noValidate>
        <Field label="Secret key" error={error} testid="key-import-input">
          <input value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        <button type="submit" disabled={importKey.busy} data-testid="key-import-submit">
          Import and switch
        </button>
        <ActionError error={importKey.error} testid="key-import-error" />
      </form>
    </section>
  );
}

function Stores() {
  const { node, store } = useApp();
  const stores = knownStores();
  if (stores.length < 2) return null;
  const use = (name: string) => {
    setActiveStore(name);
    location.reload();
  };
  return (
    <section className="card" data-testid="stores">
      <h2>Identities in this browser</h2>
      <ul className="plain">
        {stores.map((s) => (
          <li key={s.name} className="peer" data-testid="store-item" data-store={s.name}>
            <Avatar publicKey={s.publicKey} />
            <code>{s.publicKey.slice(0, 16)}…</code>
            {s.name === store || s.publicKey === node.publicKey ? (
              <span className="badge">in use</span>
            ) : (
              <button type="button" onClick={() => use(s.name)} data-testid="store-switch">
                Switch to this
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
