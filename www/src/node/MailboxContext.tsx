// Each festival's S3 mailbox (settings saved in this browser) kept in step while the app runs:
// started for every joined festival that has settings, stopped when they are removed.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Mailbox, MailboxConfig } from 'p2panda';
import { useApp } from './NodeContext';
import { useFestivals } from './FestivalsContext';
import { errorText } from './api';
import { forgetMailbox, loadMailbox, saveMailbox } from '../lib/mailbox';

/** How often a mailbox is pulled while the app is open. */
export const MAILBOX_EVERY_MS = 20_000;

export interface MailboxStatus {
  /** Settings of the mailbox (the secret included, as saved on this device). */
  config: MailboxConfig;
  /** Entries downloaded and uploaded since the app started. */
  pulled: number;
  pushed: number;
  /** When the last round finished, and the last failure (cleared by a round that works). */
  at: number | null;
  error: string | null;
}

interface Mailboxes {
  status(festival: string): MailboxStatus | null;
  /** Try the settings (a pull and a push), then keep them and keep syncing. */
  connect(festival: string, config: MailboxConfig): Promise<void>;
  syncNow(festival: string): Promise<void>;
  disconnect(festival: string): Promise<void>;
}

const Context = createContext<Mailboxes | null>(null);

export function useMailboxes(): Mailboxes {
  const value = useContext(Context);
  if (!value) throw new Error('useMailboxes outside MailboxProvider');
  return value;
}

export function MailboxProvider({ children }: { children: ReactNode }) {
  const { node, store, logError } = useApp();
  const { list } = useFestivals();
  const open = useRef(new Map<string, Mailbox>());
  /** Saved mailboxes being opened (the module loads), so one is not opened twice. */
  const opening = useRef(new Set<string>());
  const [statuses, setStatuses] = useState<ReadonlyMap<string, MailboxStatus>>(new Map());

  const update = useCallback((festival: string, change: (s: MailboxStatus) => MailboxStatus) => {
    setStatuses((all) => {
      const current = all.get(festival);
      return current ? new Map(all).set(festival, change(current)) : all;
    });
  }, []);

  const start = useCallback(
    (festival: string, mailbox: Mailbox, config: MailboxConfig, first = { pulled: 0, pushed: 0, at: null as number | null }) => {
      open.current.set(festival, mailbox);
      setStatuses((all) => new Map(all).set(festival, { config, ...first, error: null }));
      mailbox.start({
        everyMs: MAILBOX_EVERY_MS,
        onSync: (what, report) =>
          update(festival, (s) => ({
            ...s,
            [what === 'pull' ? 'pulled' : 'pushed']: s[what === 'pull' ? 'pulled' : 'pushed'] + report.entries,
            at: Date.now(),
            error: null,
          })),
        onError: (error) => update(festival, (s) => ({ ...s, at: Date.now(), error: errorText(error) })),
      });
    },
    [update],
  );

  // Resume the saved mailboxes of joined festivals.
  useEffect(() => {
    for (const festival of list) {
      const id = festival.id;
      if (!festival.joined || open.current.has(id) || opening.current.has(id)) continue;
      const config = loadMailbox(store, id);
      if (!config) continue;
      opening.current.add(id);
      node
        .mailbox(id, config)
        .then((mailbox) => start(id, mailbox, config))
        // Shown in the error log; the card offers the settings form again.
        .catch(logError)
        .finally(() => opening.current.delete(id));
    }
  }, [list, node, store, start, logError]);

  useEffect(() => () => open.current.forEach((m) => void m.close()), []);

  const value = useMemo<Mailboxes>(
    () => ({
      status: (festival) => statuses.get(festival) ?? null,
      async connect(festival, config) {
        const mailbox = await node.mailbox(festival, config);
        let first;
        try {
          const pulled = await mailbox.pull();
          const pushed = await mailbox.push();
          first = { pulled: pulled.entries, pushed: pushed.entries, at: Date.now() };
        } catch (error) {
          await mailbox.close();
          throw error;
        }
        await open.current.get(festival)?.close();
        saveMailbox(store, festival, config);
        start(festival, mailbox, config, first);
      },
      async syncNow(festival) {
        const mailbox = open.current.get(festival);
        if (!mailbox) return;
        try {
          const pulled = await mailbox.pull({ full: true });
          const pushed = await mailbox.push();
          update(festival, (s) => ({
            ...s, pulled: s.pulled + pulled.entries, pushed: s.pushed + pushed.entries, at: Date.now(), error: null,
          }));
        } catch (error) {
          update(festival, (s) => ({ ...s, at: Date.now(), error: errorText(error) }));
        }
      },
      async disconnect(festival) {
        forgetMailbox(store, festival);
        await open.current.get(festival)?.close();
        open.current.delete(festival);
        setStatuses((all) => {
          const next = new Map(all);
          next.delete(festival);
          return next;
        });
      },
    }),
    [node, store, statuses, start, update],
  );

  return <Context.Provider value={value}>{children}</Context.Provider>;
}
