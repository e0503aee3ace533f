// Opens the node once and hands it to the app, with the user's display name and the log of
// background errors (which are shown, never dropped).
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Node, P2pandaError } from 'p2panda';
import { openNode } from 'p2panda';
import { nodeConfig } from '../lib/config';
import { activeStore, loadDisplayName, rememberStore, saveDisplayName } from '../lib/storage';
import { errorCode, errorText } from './api';

export interface LoggedError {
  at: number;
  code: string;
  message: string;
}

interface AppNode {
  node: Node;
  store: string;
  displayName: string;
  setDisplayName(name: string): void;
  errors: LoggedError[];
  /** All background errors since start (the list keeps the latest ones only). */
  errorCount: number;
  clearErrors(): void;
  /** Log a background failure of the app's own (the node's come in by themselves). */
  logError(error: unknown): void;
}

const Context = createContext<AppNode | null>(null);

export function useApp(): AppNode {
  const value = useContext(Context);
  if (!value) throw new Error('useApp outside NodeProvider');
  return value;
}

export function useNode(): Node {
  return useApp().node;
}

const MAX_LOGGED = 200;

type Boot = { state: 'opening' } | { state: 'failed'; code: string; message: string } | { state: 'open'; node: Node };

export function NodeProvider({ children }: { children: ReactNode }) {
  const store = useMemo(activeStore, []);
  const [boot, setBoot] = useState<Boot>({ state: 'opening' });
  const [displayName, setName] = useState(() => loadDisplayName(store));
  const [errors, setErrors] = useState<LoggedError[]>([]);
  const [errorCount, setErrorCount] = useState(0);
  const opened = useRef<Promise<Node> | null>(null);
  const logError = useCallback((error: unknown) => {
    // The log shows the code beside the message.
    const message = error instanceof Error ? error.message : String(error);
    setErrors((list) => [{ at: Date.now(), code: errorCode(error), message }, ...list].slice(0, MAX_LOGGED));
    setErrorCount((n) => n + 1);
  }, []);

  useEffect(() => {
    // StrictMode runs effects twice in dev: open once, share the promise.
    opened.current ??= openNode({ name: store, ...nodeConfig(new URL(location.href)) });
    let cancelled = false;
    let off = () => {};
    opened.current.then(
      (node) => {
        if (cancelled) return;
        rememberStore({ name: store, publicKey: node.publicKey });
        off = node.on('error', (error: P2pandaError) => logError(error));
        setBoot({ state: 'open', node });
      },
      (error: unknown) => setBoot({ state: 'failed', code: errorCode(error), message: errorText(error) }),
    );
    return () => {
      cancelled = true;
      off();
    };
  }, [store, logError]);

  const setDisplayName = useCallback(
    (name: string) => {
      saveDisplayName(store, name);
      setName(name);
    },
    [store],
  );
  const clearErrors = useCallback(() => setErrors([]), []);

  const value = useMemo(
    () =>
      boot.state === 'open'
        ? { node: boot.node, store, displayName, setDisplayName, errors, errorCount, clearErrors, logError }
        : null,
    [boot, store, displayName, setDisplayName, errors, errorCount, clearErrors, logError],
  );

  if (boot.state === 'opening')
    return (
      <main className="boot" data-testid="boot-opening" aria-busy="true">
        <p>Opening your festival store…</p>
      </main>
    );
  if (boot.state === 'failed') return <BootFailed code={boot.code} message={boot.message} />;
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

function BootFailed({ code, message }: { code: string; message: string }) {
  const hint =
    code === 'STORE_IN_USE'
      ? 'This app is already open in another tab or window of this browser. Close it there, then reload.'
      : code === 'STORE_BLOCKED'
        ? 'The browser blocked storage (private mode or site settings). Allow site data for this page.'
        : 'The festival store could not be opened.';
  return (
    <main className="boot" role="alert" data-testid="boot-failed">
      <h1>Can’t start</h1>
      <p>{hint}</p>
      <p className="muted" data-testid="boot-error">{message}</p>
      <button type="button" onClick={() => location.reload()} data-testid="boot-reload">
        Reload
      </button>
    </main>
  );
}
