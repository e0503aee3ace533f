// Node options derived from the page address, so one static build works everywhere: locally it
// finds the rendezvous next to the page, elsewhere it relies on tabs, relays and invite codes.

export interface NodeConfig {
  rendezvous: string[];
  loopbackOnly: boolean;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** `?rendezvous=ws://…` wins; a page served from this machine tries port 4040 on it; else none. */
export function nodeConfig(url: URL): NodeConfig {
  const params = url.searchParams;
  const explicit = params.getAll('rendezvous').filter((value) => /^wss?:\/\//.test(value));
  let rendezvous = explicit;
  if (explicit.length === 0 && !params.has('rendezvous') && LOCAL_HOSTS.has(url.hostname)) {
    rendezvous = [`ws://${url.hostname}:4040`];
  }
  const loopback = params.get('loopback');
  return { rendezvous, loopbackOnly: loopback === '1' || loopback === 'true' };
}
