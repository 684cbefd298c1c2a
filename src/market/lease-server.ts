import type { LocalAccount } from 'viem/accounts'
import { LocalMiner } from '../gateway/local-miner.ts'
import { MinerPool } from '../gateway/pool.ts'
import { type GatewayServer, startGatewayServer } from '../gateway/server.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Address, Hex } from '../types/inference.ts'

export type LeaseServerOptions = {
  model: Model
  /** The provider's key: it signs every receipt the lease's answers carry. */
  account: LocalAccount
  /** The lease's API key, named by its sha256 (from the tenant's published spec). */
  apiKeyHash: Hex
  chainId: number
  /** The Verity core receipts name in their EIP-712 domain. */
  verifyingContract: Address
  /** The chain's latest block as the provider knows it: receipts are valid from there. */
  blockNumber: () => number
  /** Completion length when a request sets none, and the cap the spec's params.maxTokens sets. */
  maxTokens?: number
  /** Model id clients name (default: the model's name from its file). */
  modelId?: string
  host?: string
  /** 0 = a free port. */
  port?: number
}

/**
 * One leased deployment's OpenAI-compatible endpoint: the deterministic runtime in this process,
 * answers with receipts signed by the provider's key, open only to the tenant's API key. The
 * provider runs it as a child process (`verity lease-serve`) and proxies /leases/<id>/v1 to it.
 *
 * @example
 * const server = startLeaseServer({ model, account, apiKeyHash, chainId, verifyingContract, blockNumber: () => 0 })
 * await server.start()
 */
export function startLeaseServer(options: LeaseServerOptions): GatewayServer {
  const miner = new LocalMiner({
    model: options.model,
    account: options.account,
    chainId: options.chainId,
    // a leased deployment serves no subnet: netuid 0 says so in every receipt
    netuid: 0,
    verifyingContract: options.verifyingContract,
    blockNumber: options.blockNumber,
  })
  const pool = new MinerPool(
    miner.describe(options.modelId === undefined ? {} : { id: options.modelId }),
    { miners: [miner] },
  )
  return startGatewayServer({
    pools: [pool],
    apiKeyHashes: [options.apiKeyHash],
    ...(options.maxTokens === undefined ? {} : { defaultMaxTokens: options.maxTokens }),
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
  })
}
