import { describe, expect, it } from 'vitest';
import { nodeConfig } from './config';

describe('nodeConfig', () => {
  it('takes the rendezvous from the query', () => {
    expect(nodeConfig(new URL('https://fest.example/app/?rendezvous=wss://r.example:443'))).toEqual({ rendezvous: ['wss://r.example:443'], loopbackOnly: false });
  });

  it('defaults to port 4040 on the local host only', () => {
    expect(nodeConfig(new URL('http://127.0.0.1:8080/')).rendezvous).toEqual(['ws://127.0.0.1:4040']);
    expect(nodeConfig(new URL('http://localhost:5173/#/festival/ab')).rendezvous).toEqual(['ws://localhost:4040']);
    expect(nodeConfig(new URL('https://fest.example/')).rendezvous).toEqual([]);
  });

  it('an empty or non-websocket rendezvous means none', () => {
    expect(nodeConfig(new URL('http://127.0.0.1:8080/?rendezvous=')).rendezvous).toEqual([]);
    expect(nodeConfig(new URL('http://127.0.0.1:8080/?rendezvous=http://x')).rendezvous).toEqual([]);
  });

  it('reads loopback=1', () => {
    expect(nodeConfig(new URL('http://127.0.0.1/?loopback=1')).loopbackOnly).toBe(true);
    expect(nodeConfig(new URL('http://127.0.0.1/?loopback=0')).loopbackOnly).toBe(false);
  });
});
