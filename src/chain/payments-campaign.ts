import fc from 'fast-check'
import { type Hex, parseEther } from 'viem'
import { paymentChannelsAbi } from './abis.ts'
import { type Devnet, startDevnet } from './devnet.ts'
import { waitMined } from './dispute.ts'
import { ChannelState, NO_DISPUTE_GAME } from './payments.ts'
import { CHALLENGE_PERIOD, SETTLE_GRACE, setupPayments, type Wallet } from './payments-fixture.ts'

/**
 * The payment channels' invariant campaign: fast-check draws sequences of opens, top-ups,
 * settles (fresh vouchers, replays of old ones, vouchers signed by the wrong key or for another
 * channel, by the miner or by anyone else), close starts, finishes, reclaims and mined blocks, by
 * random callers, and jumps to a channel's deadline edges (a settle, reclaim or finishClose in
 * the deadline's block or the next). A TypeScript model predicts whether each transaction
 * succeeds; after every one:
 *   - its status is the model's prediction (a refused call changes nothing);
 *   - every channel's on-chain state equals the model's, and paid <= deposit;
 *   - the contract's VTY = sum over unclosed channels of (deposit - paid), exactly;
 *   - VTY is conserved: payers' loss = miners' gain + what the contract holds.
 * No dispute game (voiding is tested against the real game in payments-dispute.test.ts).
 */
export type PaymentsCampaignOptions = {
  runs: number
  seed: number
  maxActions?: number
  /** Other bytecode for PaymentChannels: a mutant, to check that the campaign catches it. */
  bytecode?: Hex
}

export type PaymentsCampaignResult = {
  runs: number
  actions: number
  /** Transactions that succeeded / were refused, per kind. */
  succeeded: Record<string, number>
  refused: Record<string, number>
}

type ModelChannel = {
  id: Hex
  payer: number
  miner: number
  deposit: bigint
  paid: bigint
  expiry: bigint
  closesAt: bigint
  state: number
  /** Every voucher the payer signed, as (amount, digest, signature). */
  vouchers: { amount: bigint; signature: Hex; digest: Hex }[]
}

type Action =
  | { t: 'open'; payer: number; miner: number; deposit: number; expiryIn: number }
  | { t: 'topUp'; ch: number; caller: number; amount: number; extend: number }
  | { t: 'settle'; ch: number; caller: number; amount: number; signer: number; otherCh: number }
  | { t: 'replay'; ch: number; pick: number }
  | { t: 'startClose'; ch: number; caller: number }
  | { t: 'finishClose'; ch: number; caller: number }
  | { t: 'reclaim'; ch: number; caller: number }
  | { t: 'mine'; blocks: number }
  /** Mines so that the next transaction lands at the channel's settle deadline + `off`. */
  | { t: 'toDeadline'; ch: number; off: number; call: 'settle' | 'reclaim' | 'finishClose' }

const ACTORS = 5 // 0, 1 payers; 2, 3 miners; 4 a stranger (any index may call anything)
const i = (max: number) => fc.integer({ min: 0, max })
/** A caller: usually (-1) the party the call is for, sometimes any actor. */
const who = fc.oneof(fc.constant(-1), fc.constant(-1), i(4))
const open: fc.Arbitrary<Action> = fc.record({
  t: fc.constant('open' as const),
  payer: i(1),
  miner: fc.oneof(i(4), fc.constant(2), fc.constant(3)),
  deposit: fc.integer({ min: 0, max: 50 }),
  expiryIn: fc.integer({ min: 0, max: 60 }),
})
const action: fc.Arbitrary<Action> = fc.oneof(
  open,
  fc.record({
    t: fc.constant('topUp' as const),
    ch: i(9),
    caller: who,
    amount: i(20),
    extend: i(30),
  }),
  fc.record({
    t: fc.constant('settle' as const),
    ch: i(9),
    caller: who,
    amount: fc.integer({ min: 1, max: 80 }),
    signer: fc.oneof(fc.constant(-1), fc.constant(-1), i(4)),
    otherCh: fc.oneof(fc.constant(-1), fc.constant(-1), i(9)),
  }),
  fc.record({ t: fc.constant('replay' as const), ch: i(9), pick: i(20) }),
  fc.record({ t: fc.constant('startClose' as const), ch: i(9), caller: who }),
  fc.record({ t: fc.constant('finishClose' as const), ch: i(9), caller: i(4) }),
  fc.record({ t: fc.constant('reclaim' as const), ch: i(9), caller: i(4) }),
  fc.record({ t: fc.constant('mine' as const), blocks: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    t: fc.constant('toDeadline' as const),
    call: fc.constantFrom(
      'settle' as const,
      'settle' as const,
      'reclaim' as const,
      'finishClose' as const,
    ),
    ch: i(9),
    off: fc.integer({ min: 0, max: 1 }),
  }),
)

export async function runPaymentsCampaign(
  options: PaymentsCampaignOptions,
): Promise<PaymentsCampaignResult> {
  const devnet: Devnet = await startDevnet({ accounts: 1 + ACTORS })
  try {
    const [owner, ...actors] = devnet.walletClients as [Wallet, ...Wallet[]]
    const c = await setupPayments(devnet, {
      funder: owner,
      actors,
      disputeGame: NO_DISPUTE_GAME,
      funds: parseEther('1000'),
      ...(options.bytecode ? { bytecode: options.bytecode } : {}),
    })
    const addr = (k: number) => actors[k]!.account.address
    const start = await Promise.all(actors.map((w) => c.balance(w)))
    let snapshot = await c.rpc<Hex>('evm_snapshot')
    const result: PaymentsCampaignResult = { runs: 0, actions: 0, succeeded: {}, refused: {} }
    const bump = (m: Record<string, number>, k: string) => {
      m[k] = (m[k] ?? 0) + 1
    }

    const send = async (caller: number, functionName: string, args: readonly unknown[]) => {
      const hash = await actors[caller]!.writeContract({
        address: c.payments,
        abi: paymentChannelsAbi,
        functionName,
        args,
        gas: 400_000n,
      } as Parameters<Wallet['writeContract']>[0])
      return (await waitMined(devnet.publicClient, hash)).status === 'success'
    }

    const check = async (channels: ModelChannel[], where: string) => {
      let held = 0n
      for (const m of channels) {
        const on = await c.channel(m.id)
        const want = {
          payer: addr(m.payer),
          miner: addr(m.miner),
          deposit: m.deposit,
          paid: m.paid,
          expiry: m.expiry,
          closesAt: m.closesAt,
          state: m.state,
        }
        const got = {
          payer: on.payer,
          miner: on.miner,
          deposit: on.deposit,
          paid: on.paid,
          expiry: on.expiry,
          closesAt: on.closesAt,
          state: on.state,
        }
        if (JSON.stringify(got, big) !== JSON.stringify(want, big))
          throw new Error(
            `${where}: channel ${m.id} is ${JSON.stringify(got, big)}, the model says ${JSON.stringify(want, big)}`,
          )
        if (on.paid > on.deposit)
          throw new Error(`${where}: channel ${m.id} paid above its deposit`)
        if (m.state !== ChannelState.CLOSED) held += m.deposit - m.paid
      }
      const balance = await c.balance(c.payments)
      if (balance !== held)
        throw new Error(`${where}: the contract holds ${balance}, the channels ${held}`)
      const now = await Promise.all(actors.map((w) => c.balance(w)))
      const delta = now.reduce((s, b, k) => s + b - start[k]!, 0n)
      if (delta + balance !== 0n)
        throw new Error(`${where}: VTY not conserved (${delta} + ${balance})`)
    }

    await fc.assert(
      fc.asyncProperty(
        fc.tuple(
          open,
          open,
          fc.array(action, { minLength: 5, maxLength: options.maxActions ?? 25 }),
        ),
        async ([first, second, rest]) => {
          const actions = [first, second, ...rest]
          const height = await c.block()
          await c.rpc('evm_revert', [snapshot])
          await c.mine(height - (await c.block()) + 1n)
          snapshot = await c.rpc<Hex>('evm_snapshot')
          const channels: ModelChannel[] = []
          const nonces = [0n, 0n]
          for (const [n, a] of actions.entries()) {
            const next = (await c.block()) + 1n
            const where = `run ${result.runs} action ${n} ${JSON.stringify(a)}`
            const ch = 'ch' in a ? channels[a.ch % Math.max(channels.length, 1)] : undefined
            let ok: boolean
            let expect: boolean
            let apply = () => {}
            if (a.t === 'mine') {
              await c.mine(BigInt(a.blocks))
              continue
            }
            if (a.t === 'toDeadline') {
              // the edges where off-by-one bugs live: a valid settle in the deadline's own block
              // (pays) or in the next (refused)
              if (!ch || ch.state === ChannelState.CLOSED) continue
              const grace = ch.expiry + SETTLE_GRACE
              const deadline =
                ch.state === ChannelState.CLOSING && ch.closesAt < grace ? ch.closesAt : grace
              // finishClose's own edge is the close's end, which may lie past the grace
              const edge =
                a.call === 'finishClose' && ch.state === ChannelState.CLOSING
                  ? ch.closesAt
                  : deadline
              const at = edge + BigInt(a.off)
              if (at < next) continue
              await c.mine(at - next)
              if (a.call === 'settle') {
                const amount = ch.paid + parseEther('0.1')
                const digest = `0x${(n + 1).toString(16).padStart(64, '0')}` as Hex
                const v = await c.voucher(actors[ch.payer]!, ch.id, amount, digest)
                expect = a.off === 0 && ch.paid < ch.deposit
                ok = await send(ch.miner, 'settle', [ch.id, amount, digest, v.signature])
                apply = () => {
                  ch.paid = [amount, ch.deposit].sort((x, y) => (x < y ? -1 : 1))[0]!
                  ch.vouchers.push({ amount, signature: v.signature, digest })
                }
              } else {
                // the payer's refund: never in the deadline's block, and only by its own rule after
                expect =
                  a.call === 'reclaim'
                    ? at > grace
                    : ch.state === ChannelState.CLOSING && at > ch.closesAt
                ok = await send(ch.payer, a.call, [ch.id])
                apply = () => {
                  ch.state = ChannelState.CLOSED
                }
              }
              result.actions++
              if (ok !== expect)
                throw new Error(
                  `${where}: ${a.call} at deadline + ${a.off} ${ok ? 'succeeded' : 'reverted'}, the model says it ${expect ? 'succeeds' : 'reverts'}`,
                )
              if (ok) {
                apply()
                bump(result.succeeded, `${a.t}:${a.call}`)
              } else bump(result.refused, `${a.t}:${a.call}`)
              await check(channels, where)
              continue
            }
            if (a.t === 'open') {
              const deposit = parseEther(String(a.deposit)) / 10n
              const expiry = next + BigInt(a.expiryIn)
              expect = deposit > 0n && expiry > next && a.payer !== a.miner
              const id = (await devnet.publicClient.readContract({
                address: c.payments,
                abi: paymentChannelsAbi,
                functionName: 'channelIdOf',
                args: [addr(a.payer), addr(a.miner), nonces[a.payer]!],
              })) as Hex
              ok = await send(a.payer, 'open', [addr(a.miner), deposit, expiry])
              apply = () => {
                nonces[a.payer]! += 1n
                channels.push({
                  id,
                  payer: a.payer,
                  miner: a.miner,
                  deposit,
                  paid: 0n,
                  expiry,
                  closesAt: 0n,
                  state: ChannelState.OPEN,
                  vouchers: [],
                })
              }
            } else if (!ch) {
              continue
            } else if (a.t === 'topUp') {
              const amount = parseEther(String(a.amount)) / 10n
              const expiry = ch.expiry + BigInt(a.extend)
              const caller = a.caller < 0 ? ch.payer : a.caller
              expect =
                caller === ch.payer &&
                ch.state === ChannelState.OPEN &&
                (amount > 0n || expiry !== ch.expiry) &&
                (expiry === ch.expiry || expiry > next)
              ok = await send(caller, 'topUp', [ch.id, amount, expiry])
              apply = () => {
                ch.deposit += amount
                ch.expiry = expiry
              }
            } else if (a.t === 'settle' || a.t === 'replay') {
              let v: { amount: bigint; signature: Hex; digest: Hex }
              let caller = ch.miner
              let signedHere = true
              let validForCh = true
              if (a.t === 'replay') {
                if (ch.vouchers.length === 0) continue
                v = ch.vouchers[a.pick % ch.vouchers.length]!
              } else {
                const amount = parseEther(String(a.amount)) / 10n
                const signer = a.signer < 0 ? ch.payer : a.signer
                const target = a.otherCh < 0 ? ch : channels[a.otherCh % channels.length]!
                const digest = `0x${(n + 1).toString(16).padStart(64, '0')}` as Hex
                const signed = await c.voucher(actors[signer]!, target.id, amount, digest)
                v = { amount, signature: signed.signature, digest }
                caller = a.caller < 0 ? ch.miner : a.caller
                signedHere = signer === ch.payer
                validForCh = target === ch
                if (signedHere && validForCh && amount > 0n) ch.vouchers.push(v)
              }
              const deadline =
                ch.state === ChannelState.CLOSING && ch.closesAt < ch.expiry + SETTLE_GRACE
                  ? ch.closesAt
                  : ch.expiry + SETTLE_GRACE
              // the contract pays up to the deposit (bigints: no Math.min)
              const total = [v.amount, ch.deposit].sort((x, y) => (x < y ? -1 : 1))[0]!
              expect =
                caller === ch.miner &&
                ch.state !== ChannelState.CLOSED &&
                next <= deadline &&
                v.amount > ch.paid &&
                ch.paid < ch.deposit &&
                signedHere &&
                validForCh
              ok = await send(caller, 'settle', [ch.id, v.amount, v.digest, v.signature])
              apply = () => {
                ch.paid = total
              }
            } else if (a.t === 'startClose') {
              const caller = a.caller < 0 ? (n % 2 ? ch.payer : ch.miner) : a.caller
              expect =
                (caller === ch.payer || caller === ch.miner) && ch.state === ChannelState.OPEN
              ok = await send(caller, 'startClose', [ch.id])
              apply = () => {
                ch.state = ChannelState.CLOSING
                ch.closesAt = next + CHALLENGE_PERIOD
              }
            } else if (a.t === 'finishClose') {
              expect = ch.state === ChannelState.CLOSING && next > ch.closesAt
              ok = await send(a.caller, 'finishClose', [ch.id])
              apply = () => {
                ch.state = ChannelState.CLOSED
              }
            } else {
              expect = ch.state !== ChannelState.CLOSED && next > ch.expiry + SETTLE_GRACE
              ok = await send(a.caller, 'reclaim', [ch.id])
              apply = () => {
                ch.state = ChannelState.CLOSED
              }
            }
            result.actions++
            if (ok !== expect)
              throw new Error(
                `${where}: ${ok ? 'succeeded' : 'reverted'}, the model says it ${expect ? 'succeeds' : 'reverts'}`,
              )
            if (ok) {
              apply()
              bump(result.succeeded, a.t)
            } else bump(result.refused, a.t)
            await check(channels, where)
          }
          result.runs++
        },
      ),
      { numRuns: options.runs, seed: options.seed, endOnFailure: true },
    )
    return result
  } finally {
    await devnet.stop()
  }
}

const big = (_: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)
