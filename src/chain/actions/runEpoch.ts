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
import { type AccessList, decodeEventLog, encodeFunctionData } from 'viem'
import {
  createAccessList,
  estimateContractGas,
  readContract,
  waitForTransactionReceipt,
  writeContract,
} from 'viem/actions'
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
  /**
   * Columns per consensus transaction. Default: the most whose gas estimate stays under 15M (the
   * cap is 16,777,216), or, with `wait: false`, a size from the row count.
   */
  consensusColumns?: number
  /** Columns per bonds transaction, a multiple of 16 (default: as for consensus). */
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
 * bench/gas.bench.ts; only used to size chunks when transactions are sent without waiting
 * (`wait: false`), where no gas estimate of the pending state is asked for.
 */
const CONSENSUS_CELL_GAS = 1_000
const BONDS_CELL_GAS = 4_000
const BUDGET = 13_000_000

/** Gas a chunk may be estimated at: under the 16,777,216 cap with room for state drift. */
const ESTIMATE_BUDGET = 15_000_000n

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
  // EIP-2930: slots named up front cost 1,900 instead of 2,100 on first touch; an epoch touches
  // thousands (weights, bonds, neurons). A node without eth_createAccessList just gets none.
  const accessListOf = async (
    functionName: string,
    args: readonly unknown[],
  ): Promise<AccessList | undefined> => {
    try {
      const data = encodeFunctionData({ abi: verityAbi, functionName, args } as never)
      const { accessList } = await createAccessList(client, {
        to: address,
        data,
        account: client.account,
      })
      return accessList
    } catch {
      return undefined
    }
  }
  const send = async (
    functionName: 'epochBegin' | 'epochConsensus' | 'epochBonds' | 'epochFinish',
    args: readonly unknown[],
  ) => {
    options.signal?.throwIfAborted()
    const accessList = wait ? await accessListOf(functionName, args) : undefined
    const hash = await writeContract(client, {
      address,
      abi: verityAbi,
      functionName,
      args,
      account: client.account,
      chain: client.chain,
      ...(accessList ? { accessList } : {}),
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
  // Chunk sizes: given, else (waiting for receipts) the largest whose gas estimate fits, halving
  // from all remaining columns, else sized from the per-cell costs.
  const fits = async (
    functionName: 'epochConsensus' | 'epochBonds',
    args: readonly unknown[],
  ): Promise<boolean> => {
    options.signal?.throwIfAborted()
    try {
      const gas = await estimateContractGas(client, {
        address,
        abi: verityAbi,
        functionName,
        args,
        account: client.account,
      } as Parameters<typeof estimateContractGas>[1])
      return gas <= ESTIMATE_BUDGET
    } catch {
      // out of gas at the node's cap, or a revert the smallest chunk will report when sent
      return false
    }
  }
  const chunk = async (
    kind: 'consensus' | 'bonds',
    from: number,
    given: number | undefined,
    last: number,
    argsOf: (count: number) => Promise<readonly unknown[]>,
  ): Promise<number> => {
    const remaining = n - from
    if (given !== undefined) return Math.min(given, remaining)
    if (!wait) return Math.min(epochColumns(rows, kind), remaining)
    let count = Math.min(last, remaining)
    while (
      count > 16 &&
      !(await fits(kind === 'consensus' ? 'epochConsensus' : 'epochBonds', await argsOf(count)))
    ) {
      count = Math.max(16, Math.floor(count / 32) * 16)
    }
    return count
  }
  if (stage === 1) {
    const medians: bigint[] = params.medians ? [...params.medians] : []
    const mediansOf = async (from: number, count: number): Promise<readonly bigint[]> => {
      while (medians.length < from + count) {
        const start = medians.length
        const got = await readContract(client, {
          address,
          abi: verityAbi,
          functionName: 'consensusHints',
          args: [netuid, start, Math.min(64, n - start)],
          blockTag,
        })
        if (got.length === 0) throw new EpochError('epoch: no medians for the remaining columns')
        medians.push(...got)
      }
      return medians.slice(from, from + count)
    }
    let last = n
    for (let from = 0; from < n; ) {
      const count = await chunk('consensus', from, params.consensusColumns, last, async (c) => [
        netuid,
        await mediansOf(from, c),
      ])
      const chunkMedians = await mediansOf(from, count)
      if (chunkMedians.length !== count) throw new EpochError('epoch: wrong number of medians')
      await send('epochConsensus', [netuid, chunkMedians])
      from += count
      last = count
    }
    if (params.bondsColumns !== undefined && params.bondsColumns % 16 !== 0) {
      throw new EpochError('epoch: bondsColumns must be a multiple of 16')
    }
    last = n
    for (let from = 0; from < n; ) {
      const count = await chunk('bonds', from, params.bondsColumns, last, async (c) => [netuid, c])
      await send('epochBonds', [netuid, count])
      from += count
      last = count
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
        // one word per uid: server in the high 128 bits, validator in the low 128
        ev.args.emissions.forEach((v, k) => {
          server[ev.args.fromUid + k] = v >> 128n
          validator[ev.args.fromUid + k] = v & ((1n << 128n) - 1n)
        })
      } catch {
        // another event
      }
    }
  }
  return { server, validator }
}
