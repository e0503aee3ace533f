// A small S3 client for the browser: path-style requests signed with AWS Signature Version 4
// (WebCrypto), LIST (v2, paged), GET with a size bound, PUT, DELETE. Any S3-compatible service works
// whose bucket allows the page's origin (CORS: GET, PUT, DELETE and the x-amz-* headers).
import { P2pandaError } from './index.js';

const encoder = new TextEncoder();
const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
const sha256 = async (data) => hex(await crypto.subtle.digest('SHA-256', data));
async function hmac(key, text) {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, encoder.encode(text));
}
// RFC 3986, as SigV4 canonical requests want it.
const uriEncode = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const xmlText = (s) =>
  s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const tag = (xml, name) => {
  const match = xml.match(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`));
  return match ? xmlText(match[1]) : null;
};

export class S3Client {
  constructor(config = {}) {
    const { endpoint, bucket, accessKeyId, secretAccessKey } = config;
    for (const [name, value] of Object.entries({ endpoint, bucket, accessKeyId, secretAccessKey }))
      if (typeof value !== 'string' || !value)
        throw new P2pandaError('INVALID_ARGUMENT', `mailbox: ${name} is required (a string)`);
    try {
      this.endpoint = new URL(endpoint);
    } catch {
      throw new P2pandaError('INVALID_ARGUMENT', `mailbox: endpoint is not a URL: ${endpoint}`);
    }
    this.bucket = bucket;
    this.region = config.region ?? 'us-east-1';
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
    this.sessionToken = config.sessionToken;
    this.prefix = (config.prefix ?? '').replace(/^\/+|\/+$/g, '');
  }

  #key(name) {
    return this.prefix ? `${this.prefix}/${name}` : name;
  }

  async #request(method, key, query = {}, body = undefined) {
    const base = this.endpoint.pathname.replace(/\/+$/, '');
    const path = `${base}/${uriEncode(this.bucket)}${key ? `/${key.split('/').map(uriEncode).join('/')}` : ''}`;
    const search = Object.keys(query).sort().map((k) => `${uriEncode(k)}=${uriEncode(query[k])}`).join('&');
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const payloadHash = await sha256(body ?? new Uint8Array());
    const headers = { host: this.endpoint.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
    if (this.sessionToken) headers['x-amz-security-token'] = this.sessionToken;
    const names = Object.keys(headers).sort();
    const canonical = [
      method, path, search, names.map((h) => `${h}:${headers[h]}\n`).join(''), names.join(';'), payloadHash,
    ].join('\n');
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, await sha256(encoder.encode(canonical))].join('\n');
    let signingKey = encoder.encode(`AWS4${this.secretAccessKey}`);
    for (const part of [day, this.region, 's3', 'aws4_request']) signingKey = await hmac(signingKey, part);
    const signature = hex(await hmac(signingKey, toSign));
    delete headers.host; // the browser sends it
    headers.authorization =
      `AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
    const url = `${this.endpoint.origin}${path}${search ? `?${search}` : ''}`;
    try {
      return await fetch(url, { method, headers, body, cache: 'no-store' });
    } catch (error) {
      throw new P2pandaError(
        'S3_UNREACHABLE',
        `${method} ${url} failed: ${error.message} (is the endpoint up, and does the bucket's CORS allow this origin?)`,
      );
    }
  }

  /** A typed error for a failed response. */
  async #failure(response, what) {
    const text = await response.text().catch(() => '');
    const code = tag(text, 'Code') ?? `HTTP ${response.status}`;
    const message = `${what}: ${code}${tag(text, 'Message') ? ` (${tag(text, 'Message')})` : ''}`;
    if (code === 'NoSuchBucket') return new P2pandaError('S3_NO_SUCH_BUCKET', message);
    if (response.status === 403 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch/.test(code))
      return new P2pandaError('S3_ACCESS_DENIED', message);
    return new P2pandaError('S3_FAILED', message);
  }

  /** Every object under `prefix` (relative to the mailbox prefix): `[{name, etag}]`. */
  async list(prefix) {
    const strip = this.prefix ? `${this.prefix}/` : '';
    const objects = [];
    let token = null;
    do {
      const query = { 'list-type': '2', prefix: this.#key(prefix) };
      if (token) query['continuation-token'] = token;
      const response = await this.#request('GET', '', query);
      if (!response.ok) throw await this.#failure(response, `LIST ${prefix}`);
      const xml = await response.text();
      for (const [, contents] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = tag(contents, 'Key');
        if (key?.startsWith(strip)) objects.push({ name: key.slice(strip.length), etag: tag(contents, 'ETag') });
      }
      token = tag(xml, 'IsTruncated') === 'true' ? tag(xml, 'NextContinuationToken') : null;
    } while (token);
    return objects;
  }

  /** An object's bytes; `null` if it is not there; `{tooLarge: size}` past `max` (unread). */
  async get(name, max) {
    const response = await this.#request('GET', this.#key(name));
    if (response.status === 404) {
      const failure = await this.#failure(response, `GET ${name}`);
      // A 404 is the object's absence, unless the whole bucket is gone.
      if (failure.code === 'S3_NO_SUCH_BUCKET') throw failure;
      return null;
    }
    if (!response.ok) throw await this.#failure(response, `GET ${name}`);
    const size = Number(response.headers.get('content-length') ?? 0);
    if (size > max) {
      response.body?.cancel();
      return { tooLarge: size };
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    return bytes.length > max ? { tooLarge: bytes.length } : bytes;
  }

  /** Delete `name` (a missing object is no failure). */
  async delete(name) {
    const response = await this.#request('DELETE', this.#key(name));
    if (!response.ok && response.status !== 404) throw await this.#failure(response, `DELETE ${name}`);
  }

  /** Store `bytes` under `name` (a plain PUT: mailbox names are fresh and random). */
  async put(name, bytes) {
    const response = await this.#request('PUT', this.#key(name), {}, bytes);
    if (!response.ok) throw await this.#failure(response, `PUT ${name}`);
  }
}
