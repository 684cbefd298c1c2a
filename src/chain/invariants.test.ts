import fc from 'fast-check'
import { createWalletClient, type Hex, http, keccak256, parseEther, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verityAbi, verityTokenAbi } from './abis.ts'
import { computeCommitHash } from './actions/computeCommitHash.ts'
import { enactGovernanceChange } from './actions/enactGovernanceChange.ts'
import { runEpoch } from './actions/runEpoch.ts'
import { type Devnet, startDevnet } from './devnet.ts'
import { DEFAULT_HYPERPARAMS } from './types.ts'

/**
 * Invariants over random action sequences (stake, unstake, withdraw, register, set weights,
 * commit/reveal, epochs, claims, slashes) on one devnet, reverted to a snapshot between runs:
 *   - token supply = minted − burned;
 *   - the protocol holds exactly staked + withdrawing + claimable + pending emission, and never
 *     more leaves than entered (stakes plus claimables never exceed what entered);
 *   - the coldkeys' stake values on a hotkey never exceed the hotkey's stake.
 * Fixed seed; VERITY_FC_RUNS sets the number of sequences (default 8; e.g. 2000 for a long run).
 */
const RUNS = Number(process.env.VERITY_FC_RUNS ?? 8)
const KEYS = 6

type Wallet = Devnet['walletClients'][number]

const action = fc.oneof(
  fc.record({
    t: fc.constant('stake'),
    net: fc.nat(1),
    c: fc.nat(KEYS - 1),
    h: fc.nat(KEYS - 1),
    a: fc.bigInt(1n, 10n ** 20n),
  }),
  fc.record({
    t: fc.constant('unstake'),
    net: fc.nat(1),
    c: fc.nat(KEYS - 1),
    h: fc.nat(KEYS - 1),
    a: fc.bigInt(1n, 10n ** 20n),
  }),
  fc.record({ t: fc.constant('withdraw'), c: fc.nat(KEYS - 1) }),
  fc.record({ t: fc.constant('register'), h: fc.nat(KEYS - 1), net: fc.nat(1) }),
  fc.record({
    t: fc.constant('weights'),
    h: fc.nat(KEYS - 1),
    w: fc.array(fc.nat(65535), { minLength: 1, maxLength: KEYS }),
  }),
  fc.record({
    t: fc.constant('commit'),
    h: fc.nat(KEYS - 1),
    w: fc.array(fc.nat(65535), { minLength: 1, maxLength: KEYS }),
  }),
  fc.record({ t: fc.constant('epoch'), net: fc.nat(1), fund: fc.bigInt(0n, 10n ** 19n) }),
  fc.record({ t: fc.constant('claim'), h: fc.nat(KEYS) }),
  fc.record({ t: fc.constant('mine'), b: fc.integer({ min: 1, max: 12 }) }),
)

describe('protocol invariants over random action sequences', () => {
  let devnet: Devnet
  let owner: Wallet
  let keys: Wallet[]
  let snapshot: Hex
  const nets = [1, 2]

  const rpc = (method: string, params: unknown[] = []) =>
    devnet.publicClient.request({ method, params } as never) as Promise<unknown>
  const read = <T>(address: Hex, abi: unknown, functionName: string, args: unknown[] = []) =>
    devnet.publicClient.readContract({ address, abi, functionName, args } as never) as Promise<T>
  /** Sends a transaction; a revert is an allowed outcome of a random action. */
  const tryWrite = async (wallet: Wallet, functionName: string, args: readonly unknown[]) => {
    try {
      const hash = await wallet.writeContract({
        address: devnet.addresses.verity,
        abi: verityAbi,
        functionName,
        args,
      } as Parameters<Wallet['writeContract']>[0])
      await devnet.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 })
    } catch {
      // rejected by a check: fine
    }
  }

  beforeAll(async () => {
    devnet = await startDevnet({ accounts: 2 })
    owner = devnet.walletClients[0]!
    keys = []
    for (let i = 0; i < KEYS; i++) {
      const account = privateKeyToAccount(keccak256(toHex(`invariants:${i}`)))
      await rpc('anvil_setBalance', [account.address, toHex(10n ** 22n)])
      const w = createWalletClient({ account, chain: devnet.chain, transport: http(devnet.rpcUrl) })
      keys.push(w as never)
      for (const [wallet, fn, args] of [
        [owner, 'transfer', [account.address, parseEther('1000')]],
        [w, 'approve', [devnet.addresses.verity, parseEther('1000000')]],
      ] as const) {
        const hash = await (wallet as Wallet).writeContract({
          address: devnet.addresses.token,
          abi: verityTokenAbi,
          functionName: fn,
          args,
        } as never)
        await devnet.publicClient.waitForTransactionReceipt({ hash })
      }
    }
    let hash = await owner.writeContract({
      address: devnet.addresses.token,
      abi: verityTokenAbi,
      functionName: 'approve',
      args: [devnet.addresses.verity, parseEther('1000000')],
    })
    await devnet.publicClient.waitForTransactionReceipt({ hash })
    const base = {
      ...DEFAULT_HYPERPARAMS,
      tempo: 3,
      maxUids: 4,
      maxValidators: 3,
      immunityPeriod: 2,
      weightsRateLimit: 1,
      minAllowedWeights: 1,
      burn: parseEther('1'),
      minBurn: parseEther('0.1'),
      maxBurn: parseEther('10'),
      adjustmentInterval: 5,
      maxRegistrationsPerBlock: 0,
      targetRegistrationsPerInterval: 2,
    }
    for (const p of [
      { ...base, yuma3: true, liquidAlpha: true },
      { ...base, yuma3: false, commitReveal: true },
    ]) {
      hash = await owner.writeContract({
        address: devnet.addresses.verity,
        abi: verityAbi,
        functionName: 'createSubnet',
        args: [p, parseEther('1000')],
      })
      await devnet.publicClient.waitForTransactionReceipt({ hash })
    }
    await enactGovernanceChange(owner, {
      address: devnet.addresses.verity,
      change: { kind: 'emissionShare', netuid: 1, shareBps: 5000 },
      mine: true,
    })
    snapshot = (await rpc('evm_snapshot')) as Hex
  })

  afterAll(async () => {
    await devnet?.stop()
  })

  async function check() {
    const t = devnet.addresses.token
    const [supply, minted, burned, held] = await Promise.all([
      read<bigint>(t, verityTokenAbi, 'totalSupply'),
      read<bigint>(t, verityTokenAbi, 'totalMinted'),
      read<bigint>(t, verityTokenAbi, 'totalBurned'),
      read<bigint>(t, verityTokenAbi, 'balanceOf', [devnet.addresses.verity]),
    ])
    expect(supply).toBe(minted - burned)
    const [staked, withdrawing, claimable, pending, locked] = await read<readonly bigint[]>(
      devnet.addresses.verity,
      verityAbi,
      'totals',
    )
    expect(held).toBe(staked! + withdrawing! + claimable! + pending! + locked!)
    for (const net of nets) {
      for (const h of keys) {
        const pool = await read<bigint>(devnet.addresses.verity, verityAbi, 'stakeOf', [
          net,
          h.account.address,
        ])
        let sum = 0n
        for (const c of [owner, ...keys]) {
          const [, value] = await read<readonly bigint[]>(
            devnet.addresses.verity,
            verityAbi,
            'position',
            [net, h.account.address, c.account.address],
          )
          sum += value!
        }
        expect(sum).toBeLessThanOrEqual(pool)
      }
    }
  }

  it('hold after every action', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 20 }), async (actions) => {
        await rpc('evm_revert', [snapshot])
        snapshot = (await rpc('evm_snapshot')) as Hex
        const salt = keccak256(toHex('salt'))
        const commits: Array<{ h: number; w: number[] }> = []
        for (const a of actions) {
          switch (a.t) {
            case 'stake':
              await tryWrite(keys[a.c]!, 'stake', [nets[a.net]!, keys[a.h]!.account.address, a.a])
              break
            case 'unstake':
              await tryWrite(keys[a.c]!, 'unstake', [nets[a.net]!, keys[a.h]!.account.address, a.a])
              break
            case 'withdraw':
              await tryWrite(keys[a.c]!, 'withdraw', [keys[a.c]!.account.address])
              break
            case 'register':
              await tryWrite(keys[a.h]!, 'register', [nets[a.net]!, parseEther('10')])
              break
            case 'weights':
              await tryWrite(keys[a.h]!, 'setWeights', [1, a.w.map((_, j) => j), a.w, 0n])
              for (const c of commits.splice(0)) {
                await tryWrite(keys[c.h]!, 'revealWeights', [
                  2,
                  c.w.map((_, j) => j),
                  c.w,
                  salt,
                  0n,
                ])
              }
              break
            case 'commit': {
              const uids = a.w.map((_, j) => j)
              const hash = computeCommitHash({
                hotkey: keys[a.h]!.account.address,
                netuid: 2,
                uids,
                values: a.w,
                salt,
                versionKey: 0n,
              })
              await tryWrite(keys[a.h]!, 'commitWeights', [2, hash])
              commits.push({ h: a.h, w: a.w })
              break
            }
            case 'epoch': {
              if (a.fund > 0n) await tryWrite(owner, 'fundEmission', [nets[a.net]!, a.fund])
              const [due] = await read<readonly bigint[]>(
                devnet.addresses.verity,
                verityAbi,
                'epochInfo',
                [nets[a.net]!],
              )
              const now = BigInt(await devnet.publicClient.getBlockNumber({ cacheTime: 0 }))
              if (due! > now) await rpc('anvil_mine', [toHex(due! - now)])
              await runEpoch(owner, { address: devnet.addresses.verity, netuid: nets[a.net]! })
              break
            }
            case 'claim': {
              const w = a.h === KEYS ? owner : keys[a.h]!
              await tryWrite(w, 'claim', [w.account.address])
              break
            }
            case 'mine':
              await rpc('anvil_mine', [toHex(a.b)])
              break
          }
          await check()
        }
      }),
      { seed: 4242, numRuns: RUNS, endOnFailure: true },
    )
  }, 900_000)
})
