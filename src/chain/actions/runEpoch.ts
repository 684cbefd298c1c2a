import type {
  Account,
  Address,
  Chain,
  Client,
  Hash,
  Hex,
  TransactionReceipt,
  Transport,
} from 'viem'
import { decodeEventLog } from 'viem'
import { readContract, waitForTransactionReceipt, writeContract } from 'viem/actions'
import { EpochError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type RunEpochParameters = {
  /** The Verity contract. */
  address: Address
  netuid: number
  /**
   * Weighted medians (I32F32 bits) for every column. When omitted they come from the contract's
   * `consensusHints` (eth_call); either way the contract checks them exactly.
   */
  medians?: readonly bigint[]
  /** Columns per consensus transaction (default: sized from the row count to stay under 16.7M gas). */
  consensusColumns?: number
  /** Columns per bonds transaction, a multiple of 16 (default: sized from the row count). */
  bondsColumns?: number
  /** Uids per finish transaction (default 256). */
  finishUids?: number
  /**
   * false: send every transaction without waiting (automine off; the caller mines them into one
   * block). Reads then use the pending block and every transaction gets `gas`.
   */
  wait?: boolean
  /** Gas limit per transaction when `wait` is false (default 16,000,000). */
  gas?: bigint
}

export type RunEpochReturnType = {
  hashes: Hash[]
  /** Indexes into `hashes` of the finish transactions (their logs carry EpochEmissions). */
  finish: number[]
  /** Present when `wait` is true. */
  receipts: TransactionReceipt[]
  /** Per-uid server and validator emission, from the EpochEmissions event (when `wait` is true). */
  server: bigint[]
  validator: bigint[]
}

export type RunEpochErrorType = EpochError

/**
 * Conservative gas per (row, column) cell including each transaction's fixed costs, measured with
 * bench/gas.bench.ts (consensus about 800; bonds about 1,700 when the liquid-alpha sigmoid is the
 * per-word constant, up to about 2k more per cell whose sigmoid needs its own exp).
 */
const CONSENSUS_CELL_GAS = 1_000
const BONDS_CELL_GAS = 4_000
const BUDGET = 13_000_000

/** Columns per transaction for `rows` validator rows, a multiple of 16, at least 16. */
export function epochColumns(rows: number, kind: 'consensus' | 'bonds'): number {
  const cell = kind === 'consensus' ? CONSENSUS_CELL_GAS : BONDS_CELL_GAS
  const cols = Math.floor(BUDGET / (Math.max(rows, 1) * cell) / 16) * 16
  return Math.min(Math.max(cols, 16), 512)
}

/**
 * Drives one whole epoch of a subnet: begin, consensus chunks (with weighted-median hints), bond
 * chunks and finish, each its own transaction under the 16,777,216 per-transaction gas cap.
 *
 * @example
 * const { receipts, server, validator } = await runEpoch(wallet, { address: verity, netuid: 1 })
 */
export async function runEpoch(
  client: Client<Transport, Chain, Account>,
  params: RunEpochParameters,
  options: { signal?: AbortSignal } = {},
): Promise<RunEpochReturnType> {
  const { address, netuid } = params
  const wait = params.wait ?? true
  const blockTag = wait ? ('latest' as const) : ('pending' as const)
  const hashes: Hash[] = []
  const receipts: TransactionReceipt[] = []
  const send = async (
    functionName: 'epochBegin' | 'epochConsensus' | 'epochBonds' | 'epochFinish',
    args: readonly unknown[],
  ) => {
    options.signal?.throwIfAborted()
    const hash = await writeContract(client, {
      address,
      abi: verityAbi,
      functionName,
      args,
      account: client.account,
      chain: client.chain,
      ...(wait ? {} : { gas: params.gas ?? 16_000_000n }),
    } as Parameters<typeof writeContract>[1])
    hashes.push(hash)
    if (wait) {
      const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
      if (receipt.status !== 'success') {
        throw new EpochError(`epoch ${functionName} reverted`, { details: hash })
      }
      receipts.push(receipt)
    }
  }

  await send('epochBegin', [netuid])
  const [stage, , n, rows] = await readContract(client, {
    address,
    abi: verityAbi,
    functionName: 'epochStage',
    args: [netuid],
    blockTag,
  })
  if (stage === 1) {
    const step = params.consensusColumns ?? epochColumns(rows, 'consensus')
    for (let from = 0; from < n; from += step) {
      const count = Math.min(step, n - from)
      const medians =
        params.medians?.slice(from, from + count) ??
        (await readContract(client, {
          address,
          abi: verityAbi,
          functionName: 'consensusHints',
          args: [netuid, from, count],
          blockTag,
        }))
      if (medians.length !== count) throw new EpochError('epoch: wrong number of medians')
      await send('epochConsensus', [netuid, medians])
    }
    const bstep = params.bondsColumns ?? epochColumns(rows, 'bonds')
    if (bstep % 16 !== 0) throw new EpochError('epoch: bondsColumns must be a multiple of 16')
    for (let from = 0; from < n; from += bstep) {
      await send('epochBonds', [netuid, Math.min(bstep, n - from)])
    }
  }
  const finish: number[] = []
  const fstep = params.finishUids ?? 256
  for (let from = 0; from < n || from === 0; from += fstep) {
    finish.push(hashes.length)
    await send('epochFinish', [netuid, Math.max(1, Math.min(fstep, n - from))])
    if (n === 0) break
  }
  const { server, validator } = wait
    ? epochEmissions(
        finish.map((k) => receipts[k]!.logs),
        address,
        n,
      )
    : { server: [], validator: [] }
  return { hashes, finish, receipts, server, validator }
}

/** Collects the per-uid server and validator emission from the finish transactions' logs. */
export function epochEmissions(
  logs: ReadonlyArray<ReadonlyArray<{ address: Address; data: Hex; topics: readonly Hex[] }>>,
  address: Address,
  n: number,
): { server: bigint[]; validator: bigint[] } {
  const server = new Array<bigint>(n).fill(0n)
  const validator = new Array<bigint>(n).fill(0n)
  for (const list of logs) {
    for (const log of list) {
      if (log.address.toLowerCase() !== address.toLowerCase()) continue
      try {
        const ev = decodeEventLog({
          abi: verityAbi,
          data: log.data,
          topics: log.topics as [Hex, ...Hex[]],
        })
        if (ev.eventName !== 'EpochEmissions') continue
        ev.args.server.forEach((v, k) => {
          server[ev.args.fromUid + k] = v
        })
        ev.args.validator.forEach((v, k) => {
          validator[ev.args.fromUid + k] = v
        })
      } catch {
        // another event
      }
    }
  }
  return { server, validator }
}
