// The app shell: opens the node, then header (identity, sync, errors) and the routed screen.
import { useState } from 'react';
import { NodeProvider, useApp } from './node/NodeContext';
import { SyncProvider } from './node/SyncContext';
import { FestivalsProvider } from './node/FestivalsContext';
import { MailboxProvider } from './node/MailboxContext';
import { FestivalScope } from './node/FestivalScope';
import { useRoute } from './hooks/useRoute';
import { href, type Route } from './lib/route';
import { shortKey } from './lib/avatar';
import { Avatar } from './components/Avatar';
import { ConnectivityBanner, SyncIndicator } from './components/SyncIndicator';
import { ErrorLog } from './components/ErrorLog';
import { DisplayNameForm } from './components/DisplayNameForm';
import { Home } from './screens/Home';
import { FestivalForm } from './screens/FestivalForm';
import { BadInvite, Join } from './screens/Join';
import { Settings } from './screens/Settings';
import { Bench } from './screens/Bench';
import { FestivalShell } from './screens/festival/FestivalShell';

export function App() {
  return (
    <NodeProvider>
      <SyncProvider>
        <FestivalsProvider>
          <MailboxProvider>
            <Shell />
          </MailboxProvider>
        </FestivalsProvider>
      </SyncProvider>
    </NodeProvider>
  );
}

function Shell() {
  const route = useRoute();
  const { node, displayName, errorCount } = useApp();
  const [showErrors, setShowErrors] = useState(false);
  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header className="app-header">
        <a className="brand" href={href({ page: 'home' })} data-testid="nav-home">
          <Logo /> <span className="brand-text">Festivals</span>
        </a>
        <SyncIndicator />
        <button
          type="button"
          className={`error-badge${errorCount ? ' has-errors' : ''}`}
          aria-expanded={showErrors}
          onClick={() => setShowErrors((v) => !v)}
          data-testid="error-badge"
          data-count={errorCount}
        >
          {errorCount} error{errorCount === 1 ? '' : 's'}
        </button>
        <a className="me" href={href({ page: 'settings' })} data-testid="nav-settings" title="Your identity and settings">
          <Avatar publicKey={node.publicKey} size={28} testid="my-avatar" />
          <span className="me-name" data-testid="my-name">{displayName || shortKey(node.publicKey)}</span>
        </a>
      </header>
      <ConnectivityBanner />
      {showErrors && (
        <div className="error-drawer">
          <ErrorLog />
        </div>
      )}
      <main id="main" tabIndex={-1}>
        {!displayName && route.page !== 'home' && route.page !== 'settings' && (
          // Someone arriving through an invite link has never seen the welcome screen.
          <section className="card welcome name-prompt" data-testid="name-prompt">
            <p>Pick a display name, so the others know who you are.</p>
            <DisplayNameForm />
          </section>
        )}
        <Screen route={route} />
      </main>
    </>
  );
}

function Logo() {
  // Two overlapping circles: peers. Inline, so nothing is fetched.
  return (
    <svg width="22" height="22" viewBox="0 0 22 22" aria-hidden="true" className="logo">
      <circle cx="8" cy="11" r="6" fill="none" stroke="currentColor" strokeWidth="2.2" />
      <circle cx="14" cy="11" r="6" fill="none" stroke="var(--accent)" strokeWidth="2.2" />
    </svg>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.page) {
    case 'home':
      return <Home />;
    case 'settings':
      return <Settings />;
    case 'bench':
      return <Bench />;
    case 'join':
      return <Join key={`${route.festival}-${route.key ?? ''}`} festival={route.festival} festivalKey={route.key} />;
    case 'bad-invite':
      return <BadInvite error={route.error} />;
    case 'festival-new':
      return <FestivalForm key={route.parent ?? 'new'} mode={route.parent ? { kind: 'sub', parent: route.parent } : { kind: 'new' }} />;
    case 'festival-fork':
      return <FestivalForm key={`fork-${route.festival}`} mode={{ kind: 'fork', source: route.festival }} />;
    case 'festival':
    case 'resource':
    case 'resource-new':
    case 'resource-edit':
    case 'event':
    case 'event-new':
    case 'event-edit':
      return (
        <FestivalScope key={route.festival} id={route.festival}>
          <FestivalShell route={route} />
        </FestivalScope>
      );
    case 'not-found':
      return (
        <section className="card" data-testid="not-found">
          <h1>Nothing here</h1>
          <p>
            The address <code>#/{route.path}</code> doesn’t lead anywhere. <a href={href({ page: 'home' })}>Go to your festivals</a>.
          </p>
        </section>
      );
  }
}
