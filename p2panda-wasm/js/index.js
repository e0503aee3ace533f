// p2panda for web apps. `openNode()` starts a node in a Worker (verification, storage and sync
// never block the page) and connects it to peers over WebRTC from the page, which is the only
// place browsers allow RTCPeerConnection. Types: index.d.ts.
import init, { Network, version } from './p2panda_wasm.js';

export { version };

/** Raised for every failure: `code` is stable, `message` is for people. */
export class P2pandaError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'P2pandaError';
    this.code = code;
  }
}

let initialized;

/**
 * Open the node stored under `options.name` (default "default"): creates the identity on first
 * use, restores stored festivals, and starts meeting peers.
 */
export async function openNode(options = {}) {
  initialized ??= init(options.wasmUrl);
  await initialized;
  const worker =
    options.worker ?? new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const node = new Node(worker, options);
  try {
    await node._open(options.name ?? 'default', options.secretKey);
  } catch (error) {
    worker.terminate();
    throw error;
  }
  return node;
}

const METHODS = [
  'createFestival', 'forkFestival', 'updateFestival', 'joinFestival', 'leaveFestival',
  'festival', 'festivals', 'festivalKey', 'addMember', 'removeMember',
  'setProfile', 'profiles', 'problems', 'exportSecretKey',
  'createResource', 'updateResource', 'deleteResource', 'setPolicy', 'resource', 'resources',
  'ownedBy', 'resourceTimeline',
  'createEvent', 'updateEvent', 'cancelEvent', 'event', 'eventsInRange', 'query',
  'authorize', 'pendingRequests', 'conflicts', 'progress', 'entryCount',
];

export class Node {
  #worker;
  #network;
  #nextId = 1;
  #pending = new Map();
  #subscribers = new Map(); // festival id → Set<callback>
  #listeners = { peers: new Set(), error: new Set() };
  #policies = new Map();
  #closed = false;
  #options;
  #onlineListener = null;
  #nextPeer = 1;
  /** The festivals to meet peers for (from the worker), kept for a network made later. */
  #topics = [];

  constructor(worker, options) {
    this.#worker = worker;
    this.#worker.onmessage = (event) => this.#receive(event.data);
    this.#worker.onerror = (event) =>
      this.#emit('error', new P2pandaError('WORKER_FAILED', event.message ?? 'the node worker failed'));
    this.#options = options;
    this.#startNetwork(1);
    // Opt-in: follow the browser's online/offline events. Not the default, because a browser
    // without a network still reaches other tabs and peers on its own machine.
    if (options.followBrowserOnline) {
      this.#onlineListener = (event) => this.setOnline(event.type === 'online');
      globalThis.addEventListener?.('online', this.#onlineListener);
      globalThis.addEventListener?.('offline', this.#onlineListener);
    }
    for (const method of METHODS) {
      this[method] = (...args) => this.#call(method, args);
    }
  }

  #startNetwork(firstPeer) {
    const options = this.#options;
    this.#network = new Network(
      {
        rendezvous: options.rendezvous ?? [],
        broadcastChannel: options.broadcastChannel ?? true,
        iceServers: options.iceServers ?? [],
        maxConnections: options.maxConnections ?? 8,
        targetConnections: options.targetConnections ?? 4,
        loopbackOnly: options.loopbackOnly ?? false,
        firstPeer,
      },
      {
        linkOpened: (peer, binding) =>
          this.#worker.postMessage({ kind: 'link-open', peer, binding }),
        frame: (peer, frame) =>
          this.#worker.postMessage({ kind: 'frame', peer, frame }, [frame.buffer]),
        linkClosed: (peer) => {
          this.#worker.postMessage({ kind: 'link-closed', peer });
          this.#emit('peers');
        },
        error: (code, message) => this.#emit('error', new P2pandaError(code, message)),
      },
    );
    if (this.#topics.length) this.#network.setTopics(this.#topics);
  }

  /** Whether the node is connecting to peers (false after `setOnline(false)` or while the browser is offline). */
  get online() {
    return this.#network !== null;
  }

  /**
   * Go offline (close every connection, stop signaling) or back online (meet peers again).
   * Everything else keeps working offline; changes sync once back. With
   * `followBrowserOnline: true` the browser's online/offline events do this.
   */
  setOnline(online) {
    if (this.#closed || online === this.online) return;
    if (online) {
      this.#startNetwork(this.#nextPeer);
    } else {
      const network = this.#network;
      this.#nextPeer = network.nextPeer();
      const peers = network.connections().map((c) => c.peer);
      this.#network = null;
      network.close();
      network.free();
      for (const peer of peers) this.#worker.postMessage({ kind: 'link-closed', peer });
    }
    this.#emit('peers');
  }

  async _open(name, secretKey) {
    const { publicKey } = await this.#request({ kind: 'open', name, secretKey });
    /** This user's public key (hex). */
    this.publicKey = publicKey;
    this.name = name;
  }

  #request(message) {
    if (this.#closed) return Promise.reject(new P2pandaError('NODE_CLOSED', 'the node is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id });
    });
  }

  #call(method, args) {
    return this.#request({ kind: 'call', method, args });
  }

  #receive(message) {
    switch (message.kind) {
      case 'reply': {
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        if (message.error) pending.reject(new P2pandaError(message.error.code, message.error.message));
        else pending.resolve(message.value);
        return;
      }
      case 'send':
        return this.#network?.send(message.peer, message.frames);
      case 'hangup':
        this.#network?.hangup(message.peer, message.code, message.message);
        if (message.code !== 'SESSION_ENDED' && message.code !== 'NODE_CLOSED')
          this.#emit('error', new P2pandaError(message.code, `peer dropped: ${message.message}`));
        return this.#emit('peers');
      case 'topics':
        this.#topics = message.topics;
        return this.#network?.setTopics(message.topics);
      case 'changed':
        for (const festival of message.festivals)
          for (const callback of this.#subscribers.get(festival) ?? []) callback(festival);
        return;
      case 'peers':
        return this.#emit('peers');
      case 'decide':
        return this.#decide(message);
      case 'error':
        return this.#emit('error', new P2pandaError(message.code, message.message));
    }
  }

  async #decide({ id, policy, festival, request }) {
    let verdict = null;
    try {
      const answer = await this.#policies.get(policy)?.(request, festival);
      if (answer === 'grant' || answer === 'deny') verdict = { decision: answer };
      else if (answer && (answer.decision === 'grant' || answer.decision === 'deny'))
        verdict = { decision: answer.decision, reason: answer.reason };
    } catch (error) {
      this.#emit('error', new P2pandaError('POLICY_FAILED', `policy "${policy}" threw: ${error}`));
    }
    this.#call('decided', [id, verdict]).catch(() => {});
  }

  #emit(kind, value) {
    for (const listener of this.#listeners[kind]) {
      try {
        listener(value);
      } catch (error) {
        console.error('p2panda listener failed', error);
      }
    }
  }

  /** Call `callback(festivalId)` whenever the festival (or a sub-festival) changes. */
  subscribe(festival, callback) {
    let set = this.#subscribers.get(festival);
    if (!set) this.#subscribers.set(festival, (set = new Set()));
    set.add(callback);
    return () => set.delete(callback);
  }

  /** Listen to `"peers"` (connections or sync progress changed) or `"error"` (background failures). */
  on(kind, listener) {
    if (!this.#listeners[kind]) throw new P2pandaError('INVALID_ARGUMENT', `unknown event "${kind}"`);
    this.#listeners[kind].add(listener);
    return () => this.#listeners[kind].delete(listener);
  }

  /** Answer requests for resources whose policy is `{ custom: name }` with `decide`. */
  async registerPolicy(name, decide) {
    if (typeof decide !== 'function')
      throw new P2pandaError('INVALID_ARGUMENT', 'a policy is a function (request, festival) => decision');
    this.#policies.set(name, decide);
    await this.#call('registerPolicy', [name]);
  }

  async unregisterPolicy(name) {
    this.#policies.delete(name);
    await this.#call('unregisterPolicy', [name]);
  }

  /** Connected peers with their sync state, and how each link was made. */
  async peers() {
    const sessions = await this.#call('peers', []);
    const links = new Map((this.#network?.connections() ?? []).map((c) => [c.peer, c]));
    return sessions.map((s) => ({ ...s, via: links.get(s.peer)?.via ?? null }));
  }

  /**
   * S3 store-and-forward for `festival` through any S3-compatible bucket (`config`: endpoint,
   * bucket, accessKeyId, secretAccessKey, region?, prefix?). Loads the mailbox module on first use.
   */
  async mailbox(festival, config) {
    const { openMailbox } = await import('./mailbox.js');
    return openMailbox(this, (method, args) => this.#call(method, args), festival, config);
  }

  /** Zero-infrastructure pairing, step 1: a code to give the other person. */
  createInvite() {
    return this.#networkOrFail().createInvite();
  }

  /** Step 2, on the other device: take their code, give back the answer code. */
  acceptInvite(code) {
    return this.#networkOrFail().acceptInvite(code);
  }

  /** Step 3, back on the first device: take the answer code; resolves once connected. */
  completeInvite(answer) {
    return this.#networkOrFail().completeInvite(answer);
  }

  #networkOrFail() {
    if (!this.#network) throw new P2pandaError('OFFLINE', 'the node is offline (setOnline(true) connects it)');
    return this.#network;
  }

  /** Close connections, the store and the worker. */
  async close() {
    if (this.#closed) return;
    try {
      await this.#request({ kind: 'close' });
    } finally {
      this.#closed = true;
      this.#network?.close();
      if (this.#onlineListener) {
        globalThis.removeEventListener?.('online', this.#onlineListener);
        globalThis.removeEventListener?.('offline', this.#onlineListener);
      }
      this.#worker.terminate();
      for (const { reject } of this.#pending.values())
        reject(new P2pandaError('NODE_CLOSED', 'the node is closed'));
      this.#pending.clear();
    }
  }
}
