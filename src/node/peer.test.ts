import { createServer } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { createPeer, type Peer } from './peer.ts'

const started: Peer[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()))
})

async function peer(options: Parameters<typeof createPeer>[0] = {}): Promise<Peer> {
  const p = await createPeer(options)
  started.push(p)
  return p
}

const until = async (what: string, fn: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('createPeer on a network', () => {
  it('listens where told and publishes the announce addresses, not the listen ones', async () => {
    const port = await freePort()
    const p = await peer({
      listen: [`/ip4/127.0.0.1/tcp/${port}`],
      announce: ['/dns4/miner.example.org/tcp/4001'],
    })
    const published = p.getMultiaddrs().map(String)
    expect(published).toEqual([`/dns4/miner.example.org/tcp/4001/p2p/${p.peerId}`])
    // it still listens on the listen address: the announce address is only what others are told
    const client = await peer()
    await client.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${p.peerId}`))
    expect(client.getConnections(p.peerId).length).toBe(1)
  })

  it('a node on one address dials out from it: its peers see that address', async () => {
    const a = await peer()
    const b = await peer({
      listen: ['/ip4/127.0.0.2/tcp/0'],
      bootstrap: [a.getMultiaddrs()[0]!.toString()],
    })
    await until('a to see b', () => a.getConnections(b.peerId).length > 0)
    expect(a.getConnections(b.peerId)[0]!.remoteAddr.toString()).toMatch(
      /^\/ip4\/127\.0\.0\.2\/tcp\//,
    )
  })

  it('dials its bootstrap peers at start', async () => {
    const a = await peer()
    const b = await peer({ bootstrap: [a.getMultiaddrs()[0]!.toString()] })
    await until('a connection', () => b.getConnections(a.peerId).length > 0)
    await until('a to see it', () => a.getConnections(b.peerId).length > 0)
    expect(b.getConnections(a.peerId)[0]!.remoteAddr.toString()).toContain('/ip4/127.0.0.1/tcp/')
  })

  it('a bootstrap peer that is down does not stop a node from starting', async () => {
    const a = await peer()
    const addr = a.getMultiaddrs()[0]!.toString()
    await a.stop()
    started.splice(started.indexOf(a), 1)
    const b = await peer({ bootstrap: [addr] })
    expect(b.status).toBe('started')
  })

  it('refuses malformed listen, announce and bootstrap addresses with the one that is wrong', async () => {
    await expect(createPeer({ listen: ['127.0.0.1:4001'] })).rejects.toThrow(
      /listen address: '127.0.0.1:4001' is not a multiaddr/,
    )
    await expect(createPeer({ announce: ['/ip4/1.2.3.4/tcp'] })).rejects.toThrow(
      /announce address: '\/ip4\/1.2.3.4\/tcp' is not a multiaddr/,
    )
    await expect(createPeer({ bootstrap: ['/ip4/127.0.0.1/tcp/4001'] })).rejects.toThrow(
      /has no \/p2p\/<peer id>/,
    )
  })

  it('a node behind a relay is reached through it (/p2p-circuit)', async () => {
    const relay = await peer({ relay: true })
    const relayAddr = relay.getMultiaddrs()[0]!.toString()
    // the hidden node listens only through the relay: no address of its own is published
    const hidden = await peer({
      listen: ['/p2p-circuit'],
      bootstrap: [relayAddr],
    })
    await until('a relay reservation', () =>
      hidden.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit')),
    )
    const circuit = hidden.getMultiaddrs().find((a) => a.toString().includes('/p2p-circuit'))!
    expect(circuit.toString()).toContain(relay.peerId.toString())
    const client = await peer()
    const rtt = await client.services.ping.ping(multiaddr(circuit.toString()), {
      signal: AbortSignal.timeout(10_000),
    })
    expect(rtt).toBeGreaterThanOrEqual(0)
    expect(client.getConnections(hidden.peerId).length).toBeGreaterThan(0)
  })
})

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
