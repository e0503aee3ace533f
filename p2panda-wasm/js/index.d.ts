// Types of the p2panda JS API (index.js). Ids and keys are lowercase hex strings; times are
// milliseconds since the epoch.

export type Hex = string;
export type Millis = number;

/** Every failure is a P2pandaError with a stable `code`, e.g. "NOT_ALLOWED", "STORE_IN_USE". */
export class P2pandaError extends Error {
  readonly code: string;
}

export function version(): string;

export interface NodeOptions {
  /** Which stored node to open (one IndexedDB database and identity per name). Default "default". */
  name?: string;
  /** WebSocket rendezvous servers, e.g. ["ws://127.0.0.1:4040"]. Only needed to find first peers. */
  rendezvous?: string[];
  /** Find nodes in other tabs of this origin through a BroadcastChannel. Default true. */
  broadcastChannel?: boolean;
  /** STUN/TURN servers for connections across NATs. Default none (local network only). */
  iceServers?: { urls: string | string[]; username?: string; credential?: string }[];
  /** Most connections this node keeps. Default 8. */
  maxConnections?: number;
  /** Once this many are open the node stops announcing itself. Default 4. */
  targetConnections?: number;
  /** Refuse any WebRTC candidate that is not loopback (tests). Default false. */
  loopbackOnly?: boolean;
  /** Where the .wasm file is, when a bundler can't find it next to index.js. */
  wasmUrl?: string | URL;
  /** A Worker already running worker.js (for bundlers that need to create it themselves). */
  worker?: Worker;
  /**
   * A secret key (64 hex characters, from `exportSecretKey`) for a new store: the node takes this
   * identity instead of making one. A store that already holds another identity fails with
   * `IDENTITY_MISMATCH`.
   */
  secretKey?: Hex;
  /**
   * Close connections when the browser fires `offline` and reconnect on `online`. Default false:
   * a browser without a network still reaches other tabs and peers on its own machine.
   */
  followBrowserOnline?: boolean;
}

export function openNode(options?: NodeOptions): Promise<Node>;

export type ResourceKind =
  | { type: 'location'; address?: string; geo?: { lat: number; lon: number }; url?: string }
  | { type: 'item' }
  | { type: 'skill' };

/** How an owner answers requests: automatically, by hand, or by a registered callback. */
export type Policy = 'fcfs' | 'manual' | { custom: string };

export interface Festival {
  id: Hex;
  name: string;
  description: string;
  creator: Hex;
  parent: Hex | null;
  forkOf: Hex | null;
  subFestivals: Hex[];
  /** This node replicates it (it is a root festival or fork this node joined). */
  joined: boolean;
  /** Joined but not received from any peer yet: only `id` is known. */
  pending: boolean;
  /**
   * End-to-end encrypted: its operations are sealed with a key only members hold (this node
   * holds it). A festival joined without its key shows as `pending` and `private: false`: this
   * node stores and relays its entries but cannot read them.
   */
  private: boolean;
}

export interface Resource {
  id: Hex;
  festival: Hex;
  owner: Hex;
  name: string;
  description: string;
  kind: ResourceKind;
  policy: Policy;
  deleted: boolean;
}

export type RequestStatus =
  | { status: 'pending' }
  | { status: 'granted' }
  | { status: 'denied'; reason?: string }
  | { status: 'resourceDeleted' };

export interface FestivalEvent {
  id: Hex;
  festival: Hex;
  creator: Hex;
  /** The operation that made the current version; answers name it. */
  version: Hex;
  title: string;
  description: string;
  start: Millis;
  end: Millis;
  cancelled: boolean;
  /** Share of requested resources granted (1 when none are requested). */
  confirmed: number;
  resources: ({ resource: Hex } & RequestStatus)[];
}

export type Booking = { event: Hex; start: Millis; end: Millis } & RequestStatus;

export interface Request {
  event: Hex;
  eventVersion: Hex;
  resource: Hex;
  start: Millis;
  end: Millis;
}

export interface Conflict {
  resource: Hex;
  first: Hex;
  second: Hex;
}

/** A member's display name in a festival. */
export interface Profile {
  author: Hex;
  name: string;
}

/** Something to show, never hide: a forked log (frozen) or an operation refused on apply. */
export type Problem =
  | { kind: 'fork'; author: Hex; festival: Hex; seq: number }
  | { kind: 'rejected'; author: Hex; festival: Hex; operation: Hex; reason: string };

export interface Peer {
  peer: number;
  publicKey: Hex | null;
  sharedFestivals: number;
  /** Entries the peer announced that this node does not hold yet. */
  missing: number;
  caughtUp: boolean;
  bytesSent: number;
  bytesReceived: number;
  /** How the connection was made: "rendezvous", "broadcast", "relay" or "invite". */
  via: string | null;
}

export interface Progress {
  peers: number;
  missing: number;
  entriesReceived: number;
  /** Received entries committed to IndexedDB. */
  entriesStored: number;
  caughtUp: boolean;
}

/** A request (an event asking for one resource) with what its owner said: `query` items. */
export type RequestWithStatus = Request & RequestStatus;

export type RequestState = RequestStatus['status'];

/**
 * What `query` pages through. Times bound the events: an item is listed when its event overlaps
 * `[from, to)` (default: all time). `limit` is 1 to 1000 items per page (default 50); `after`
 * is a page's `next`, to read the page after it.
 *
 * - `by: 'time'`: events, by start then id (the festival's and its sub-festivals').
 * - `by: 'resource'`: events requesting `resource` (its timeline), by start then id.
 * - `by: 'owner'`: without `status`, the resources `owner` owns (default: this user), by id;
 *   with `status`, the requests for them in that state, by event start, event id, resource id.
 * - `by: 'status'`: requests in that state (for `resource` only, when given), in the same order.
 */
export type Query =
  | { by: 'time'; from?: Millis; to?: Millis; limit?: number; after?: string | null }
  | { by: 'resource'; resource: Hex; from?: Millis; to?: Millis; limit?: number; after?: string | null }
  | { by: 'owner'; owner?: Hex; status?: undefined; limit?: number; after?: string | null }
  | { by: 'owner'; owner?: Hex; status: RequestState; from?: Millis; to?: Millis; limit?: number; after?: string | null }
  | { by: 'status'; status: RequestState; resource?: Hex; from?: Millis; to?: Millis; limit?: number; after?: string | null };

/**
 * One page of a query. `next` is where the next page starts (`null` on the last page): the key
 * of the last item, so changes between pages never repeat or skip what was already returned.
 * Treat it as an opaque string.
 */
export interface Page<T> {
  items: T[];
  next: string | null;
}

export type Decision = 'grant' | 'deny';
export type PolicyAnswer = Decision | { decision: Decision; reason?: string } | null | undefined;

export class Node {
  readonly publicKey: Hex;
  readonly name: string;

  /**
   * `private: true` makes an end-to-end encrypted festival (root festivals only; sub-festivals
   * and forks of a private festival are private too). Share it with `festivalKey`.
   */
  createFestival(festival: {
    name: string;
    description?: string;
    parent?: Hex;
    private?: boolean;
  }): Promise<Hex>;
  forkFestival(source: Hex, fork: { name: string; description?: string }): Promise<Hex>;
  updateFestival(festival: Hex, changes: { name?: string; description?: string }): Promise<Hex>;
  /**
   * Replicate a festival someone shared with you (its id). For a private festival pass its
   * `key` (from the invite link's fragment) to read it; without the key this node still stores
   * and relays it for others.
   */
  joinFestival(festival: Hex, key?: Hex): Promise<void>;
  /**
   * A private festival's current key (64 hex characters) for invite links, or `null` for a
   * public one. Put it in the link's `#fragment`: browsers never send fragments to servers.
   */
  festivalKey(festival: Hex): Promise<Hex | null>;
  /** Seal a private festival's key to a member's public key (creator only; `NOT_ALLOWED`). */
  addMember(festival: Hex, member: Hex): Promise<Hex>;
  /**
   * Remove a member from a private festival: a new key, sealed to everyone else who has written
   * in it, for everything after (creator only). Members who only read need a new link.
   */
  removeMember(festival: Hex, member: Hex): Promise<Hex>;
  /** Stop replicating a festival and forget that it was joined (stored entries stay). */
  leaveFestival(festival: Hex): Promise<void>;
  festival(festival: Hex): Promise<Festival | null>;
  festivals(): Promise<Festival[]>;

  createResource(
    festival: Hex,
    resource: { name: string; description?: string; kind: ResourceKind; policy?: Policy },
  ): Promise<Hex>;
  updateResource(
    festival: Hex,
    resource: Hex,
    changes: { name?: string; description?: string; kind?: ResourceKind; policy?: Policy },
  ): Promise<Hex>;
  setPolicy(festival: Hex, resource: Hex, policy: Policy): Promise<Hex>;
  deleteResource(festival: Hex, resource: Hex): Promise<Hex>;
  resource(festival: Hex, resource: Hex): Promise<Resource | null>;
  resources(festival: Hex): Promise<Resource[]>;
  ownedBy(festival: Hex, owner: Hex): Promise<Resource[]>;
  resourceTimeline(festival: Hex, resource: Hex, from?: Millis, to?: Millis): Promise<Booking[]>;

  createEvent(
    festival: Hex,
    event: { title: string; description?: string; start: Millis; end: Millis; resources?: Hex[] },
  ): Promise<Hex>;
  updateEvent(
    festival: Hex,
    event: Hex,
    changes: { title?: string; description?: string; start?: Millis; end?: Millis; resources?: Hex[] },
  ): Promise<Hex>;
  cancelEvent(festival: Hex, event: Hex): Promise<Hex>;
  event(festival: Hex, event: Hex): Promise<FestivalEvent | null>;
  eventsInRange(festival: Hex, from: Millis, to: Millis): Promise<FestivalEvent[]>;
  /**
   * One page of a festival's events, resources or requests, read from an index: every page costs
   * about the same (O(log n) per item), however large the festival. Bad arguments (an unknown
   * `by` or `status`, a missing `resource` or `status`, `limit` outside 1..1000, an `after` that
   * is no page's `next`) fail with `INVALID_ARGUMENT`.
   *
   * ```ts
   * // Every pending request in the festival, 50 at a time.
   * let after: string | null = null;
   * do {
   *   const page = await node.query(festival, { by: 'status', status: 'pending', limit: 50, after });
   *   for (const request of page.items) show(request.event, request.resource, request.start);
   *   after = page.next;
   * } while (after);
   * ```
   */
  query(festival: Hex, q: Query & { by: 'time' | 'resource' }): Promise<Page<FestivalEvent>>;
  query(festival: Hex, q: Query & { by: 'owner'; status?: undefined }): Promise<Page<Resource>>;
  query(festival: Hex, q: Query & { by: 'owner' | 'status'; status: RequestState }): Promise<Page<RequestWithStatus>>;

  authorize(
    festival: Hex,
    answer: { event: Hex; resource: Hex; decision: Decision; reason?: string; eventVersion?: Hex },
  ): Promise<Hex>;
  /** Requests waiting for `owner` (default: this user). */
  pendingRequests(festival: Hex, owner?: Hex): Promise<Request[]>;
  conflicts(festival: Hex): Promise<Conflict[]>;
  registerPolicy(
    name: string,
    decide: (request: Request, festival: Hex) => PolicyAnswer | Promise<PolicyAnswer>,
  ): Promise<void>;
  unregisterPolicy(name: string): Promise<void>;

  /** Publish this user's display name in a festival's context. */
  setProfile(festival: Hex, profile: { name: string }): Promise<Hex>;
  /** Display names set in a festival's context, latest per author. */
  profiles(festival: Hex): Promise<Profile[]>;
  /** Forked logs and rejected operations in a festival's scope. */
  problems(festival: Hex): Promise<Problem[]>;
  /** This user's secret key (64 hex characters), for a backup. Whoever has it can act as you. */
  exportSecretKey(): Promise<Hex>;

  /** Whether the node connects to peers; false while offline. */
  readonly online: boolean;
  /** Go offline (close every connection, stop signaling) or back online; local work goes on. */
  setOnline(online: boolean): void;

  subscribe(festival: Hex, callback: (festival: Hex) => void): () => void;
  on(kind: 'peers', listener: () => void): () => void;
  on(kind: 'error', listener: (error: P2pandaError) => void): () => void;
  peers(): Promise<Peer[]>;
  progress(): Promise<Progress>;
  entryCount(): Promise<number>;

  createInvite(): Promise<string>;
  acceptInvite(code: string): Promise<string>;
  completeInvite(answer: string): Promise<void>;

  /**
   * S3 store-and-forward for `festival`: peers that are never online together converge through
   * any S3-compatible bucket. Loads the mailbox module (its own ~72 KB gzipped WebAssembly) on
   * first use; apps that never call this never download it. The bucket must allow the app's
   * origin (CORS: GET, PUT, DELETE, and the headers authorization, x-amz-content-sha256, x-amz-date).
   * Everything in the bucket is sealed; names are opaque. Throws `INVALID_ARGUMENT` for bad
   * settings, `NOT_FOUND` for a festival this node neither knows nor joined.
   *
   * ```js
   * const mailbox = await node.mailbox(festival, {
   *   endpoint: 'https://s3.example.org', bucket: 'festivals',
   *   accessKeyId: '…', secretAccessKey: '…',
   * });
   * await mailbox.pull();            // download and store what this node lacks
   * await mailbox.push();            // upload what the bucket lacks
   * mailbox.start({ everyMs: 30_000, onError: console.warn }); // or keep it in step
   * ```
   */
  mailbox(festival: Hex, config: MailboxConfig): Promise<Mailbox>;

  close(): Promise<void>;
}

/** Where a festival's mailbox lives, and the credentials the user gave for it. */
export interface MailboxConfig {
  /** The service's URL, e.g. "https://s3.eu-central-1.amazonaws.com" or "http://127.0.0.1:9000". Path-style requests. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** For temporary credentials. */
  sessionToken?: string;
  /** Default "us-east-1" (what most S3-compatible services accept). */
  region?: string;
  /** Object names start with this (no slashes at either end needed). */
  prefix?: string;
  /** A pull lists every bundle (finding ones no index names) every this many pulls. Default 10. */
  listEvery?: number;
  /** Where the mailbox module's .wasm is, if a bundler moved it. */
  wasmUrl?: string | URL;
}

/**
 * One festival's mailbox. S3 failures reject with `S3_ACCESS_DENIED` (wrong credentials),
 * `S3_NO_SUCH_BUCKET`, `S3_UNREACHABLE` (no answer, or CORS refused) or `S3_FAILED`; nothing
 * stored locally is lost when one does. A push or pull waits for the one before it.
 */
export interface Mailbox {
  readonly festival: Hex;
  /** Upload every entry of the festival the bucket is not known to hold, then this writer's index. */
  push(): Promise<PushReport>;
  /** Download, verify and store what this node lacks; `full` also lists every bundle name. */
  pull(options?: { full?: boolean }): Promise<PullReport>;
  /**
   * Pull now and every `everyMs` (default 30 s); push about a second after each change of the
   * festival. Finished rounds go to `onSync`, failures to `onError` (the next round tries again).
   */
  start(options?: {
    everyMs?: number;
    onError?: (error: P2pandaError) => void;
    onSync?: (what: 'pull' | 'push', report: PullReport | PushReport) => void;
  }): void;
  stop(): void;
  /** Stop and free the mailbox's memory in the module. */
  close(): Promise<void>;
}

export interface PushReport {
  /** Objects uploaded, the entries in them and their bytes (sealed, padded). */
  bundles: number;
  entries: number;
  bytes: number;
  /** Whether this writer's index was uploaded (it is when bundles were). */
  index: boolean;
  /** Other writers' indexes read first, so what they uploaded is not uploaded again. */
  indexesRead: number;
}

export interface PullReport {
  indexesRead: number;
  /** Whether every bundle name was listed (not only those indexes name). */
  listed: boolean;
  bundles: number;
  bytes: number;
  /** Entries stored, and entries downloaded that this node had already. */
  entries: number;
  duplicates: number;
  /** Bundles an index names that are gone from the bucket. */
  missing: number;
  /** Objects refused (MAILBOX_CORRUPTED, MAILBOX_WRONG_KEY, MAILBOX_MALFORMED, MAILBOX_TOO_LARGE): nothing of them was used. */
  rejectedObjects: { code: string; name: string; message: string }[];
  /** Of those, damaged bundles deleted from the bucket (if the key may): their writers upload those entries again. */
  removed: number;
  /** Entries refused by verification (INVALID_ENTRY, OUTSIDE_FESTIVAL, MISPLACED_ENTRY), as from any peer. */
  rejectedEntries: { code: string; author: Hex; logId: number; seq: number; message: string }[];
}
