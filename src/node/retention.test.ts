import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Hex, InferenceRequest, SignedReceipt } from '../types/inference.ts'
import { ReplayGuard } from '../verify/call.ts'
import { receiptDigest } from '../verify/receipt.ts'
import { NodeMetrics } from './metrics.ts'
import { Retention } from './retention.ts'
import { NodeStore } from './store.ts'

const dir = mkdtempSync(join(tmpdir(), 'verity-retention-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const GAME = '0x00000000000000000000000000000000000000ee' as const
const MINER = '0x00000000000000000000000000000000000000aa' as const
const request = { seed: 1 } as unknown as InferenceRequest
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex

/** A receipt valid until `validUntil` (unsigned: the store does not check signatures). */
function receipt(n: number, validUntil: number): SignedReceipt {
  return {
    chainId: 31337,
    netuid: 1,
    modelRoot: hex32(1),
    requestHash: hex32(1000 + n),
    outputHash: hex32(2),
    traceRoot: hex32(3),
    traceLeaves: 4,
    minerHotkey: MINER,
    issuedBlock: validUntil - 100,
    validUntilBlock: validUntil,
    nonce: hex32(n),
    verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    signature: '0x',
  }
}
const put = (store: NodeStore, r: SignedReceipt) =>
  store.putReceipt({ request, receipt: r, tokens: [1, 2], caller: MINER })

describe('retention', () => {
  it('keeps a receipt until validUntilBlock plus the longest game, and while a dispute over it is active', () => {
    const store = new NodeStore(join(dir, 'receipts'))
    const LONGEST = 50
    put(store, receipt(1, 100))
    put(store, receipt(2, 100))
    put(store, receipt(3, 200))
    const disputed = receipt(4, 100)
    put(store, disputed)
    store.putDispute({
      game: GAME,
      id: 1n,
      role: 'miner',
      digest: receiptDigest(disputed),
      request,
      tokens: [1, 2],
      status: 'active',
      openedBlock: 99n,
    })
    // a watch for DisputeOpened that has not read block 100 yet keeps them all
    expect(store.pruneReceipts(1000, LONGEST, 100)).toBe(0)
    // block 150 = 100 + 50: a game opened at 100 may still be deciding
    expect(store.pruneReceipts(150, LONGEST)).toBe(0)
    expect(store.countReceipts()).toBe(4)
    // past it: 1 and 2 go (with their digests), 3 is still disputable, 4 is under dispute
    expect(store.pruneReceipts(151, LONGEST)).toBe(2)
    expect(store.countReceipts()).toBe(2)
    expect(store.getReceipt(hex32(1001), hex32(1))).toBeUndefined()
    expect(store.receiptByDigest(receiptDigest(receipt(1, 100)))).toBeUndefined()
    expect(store.receiptByDigest(receiptDigest(disputed))?.receipt.nonce).toBe(hex32(4))
    // inserted between two prunings: a fresh receipt stays, a dead one goes
    put(store, receipt(5, 400))
    put(store, receipt(6, 120))
    expect(store.pruneReceipts(251, LONGEST)).toBe(2) // 3 (200 + 50 < 251) and 6
    expect(store.countReceipts()).toBe(2) // 4 (disputed) and 5
    // the dispute decided: its receipt goes at the next pruning
    store.updateDispute(GAME, 1n, 'miner', {
      lastSeenBlock: 260n,
      decided: { minerLost: false, reason: 8, slashed: 0n },
    })
    expect(store.pruneReceipts(261, LONGEST)).toBe(1)
    expect(store.countReceipts()).toBe(1)
    const digests = store.db.prepare('SELECT count(*) AS n FROM receipt_digests').get() as {
      n: number
    }
    expect(digests.n).toBe(1)
    store.close()
  })

  it('prunes in one transaction while another connection to the same file inserts', () => {
    const a = new NodeStore(join(dir, 'shared'))
    const b = new NodeStore(join(dir, 'shared'))
    for (let i = 0; i < 200; i++) {
      put(i % 2 ? a : b, receipt(i, i % 4 === 0 ? 110 : 1000))
      if (i % 25 === 24) a.pruneReceipts(200, 0)
    }
    a.pruneReceipts(200, 0)
    // every receipt valid until 110 is gone, every other one is there, digests match receipts
    expect(b.countReceipts()).toBe(150)
    const orphans = b.db
      .prepare(
        'SELECT count(*) AS n FROM receipt_digests d WHERE NOT EXISTS (SELECT 1 FROM receipts r WHERE r.request_hash = d.request_hash AND r.nonce = d.nonce)',
      )
      .get() as { n: number }
    expect(orphans.n).toBe(0)
    a.close()
    b.close()
  })

  it("keeps a validator's checks and evidence for keepEpochs, pending commits always", async () => {
    const store = new NodeStore(join(dir, 'validator'))
    for (let epoch = 0; epoch < 10; epoch++) {
      store.putCheck({
        epoch,
        uid: 1,
        hotkey: MINER,
        kind: 'synthetic',
        outcome: 'ok',
        latencyMs: 5,
      })
      store.putCheck({
        epoch,
        uid: 2,
        hotkey: MINER,
        kind: 'gossip',
        outcome: 'ok',
        latencyMs: null,
      })
      store.putCommit({
        hash: hex32(epoch),
        netuid: 1,
        epoch,
        uids: [1],
        weights: [1],
        salt: hex32(7),
        versionKey: 0n,
      })
      if (epoch !== 3) store.markRevealed(hex32(epoch))
    }
    store.db
      .prepare('INSERT INTO evidence (hotkey, uid, epoch, evidence, at) VALUES (?, ?, ?, ?, ?)')
      .run(MINER, 1, 2, '{}', 0)
    const metrics = new NodeMetrics()
    let epoch = 9
    const retention = new Retention({
      store,
      block: () => 1000,
      epoch: () => epoch,
      keepEpochs: 4,
      metrics,
    })
    expect(await retention.prune()).toEqual({ receipts: 0, checks: 12, evidence: 1, commits: 5 })
    expect(store.checks().map((c) => c.epoch)).toEqual([6, 6, 7, 7, 8, 8, 9, 9])
    expect(store.pendingCommits(1).map((c) => c.epoch)).toEqual([3])
    expect(await metrics.value(metrics.pruned, { table: 'checks' })).toBe(12)
    expect(await metrics.value(metrics.pruned, { table: 'commits' })).toBe(5)
    epoch = 10
    store.putCheck({
      epoch: 10,
      uid: 1,
      hotkey: MINER,
      kind: 'synthetic',
      outcome: 'ok',
      latencyMs: 1,
    })
    expect((await retention.prune()).checks).toBe(2)
    expect(store.checks().map((c) => c.epoch)).toEqual([7, 7, 8, 8, 9, 9, 10])
    store.close()
  })

  it('keeps replay nonces in the store for the freshness window, then forgets them', () => {
    let now = 1_000_000
    const store = new NodeStore(join(dir, 'nonces'))
    const call = (n: number, timestamp = now) => ({ caller: MINER, nonce: hex32(n), timestamp })
    const guard = new ReplayGuard({ maxSkewMs: 60_000, now: () => now, nonces: store.nonceBook() })
    guard.check(call(1))
    guard.check(call(2))
    expect(() => guard.check(call(1))).toThrow(/replayed/)
    // another guard on the same store (a restarted miner) still refuses the replay
    const again = new ReplayGuard({ maxSkewMs: 60_000, now: () => now, nonces: store.nonceBook() })
    expect(() => again.check(call(2))).toThrow(/replayed/)
    expect(store.countNonces()).toBe(2)
    now += 61_000
    again.check(call(3))
    // 1 and 2 are older than the window: stale if sent again, so no longer kept
    expect(store.countNonces()).toBe(1)
    expect(() => again.check(call(1, now - 61_000))).toThrow(/stale/)
    store.close()
  })
})
