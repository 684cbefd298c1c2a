import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  createWalletClient,
  type Hex,
  http,
  keccak256,
  parseEther,
  toHex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { verityTokenAbi } from './abis.ts'
import { type Devnet, startDevnet } from './devnet.ts'
import { deployMarket } from './market.ts'

/**
 * A devnet with the compute market deployed against its VTY and funded, approving actors: what
 * the market's tests, invariant campaign and gas bench start from. For tests and benches only.
 */
export type Wallet = Devnet['walletClients'][number]

export const BID_DEPOSIT = parseEther('5')
export const MIN_ESCROW = parseEther('1')
/** VTY each actor starts with. */
export const ACTOR_FUNDS = parseEther('10000')

export type MarketChain = Awaited<ReturnType<typeof startMarketChain>>

export async function startMarketChain(
  options: { actors?: number; tag?: string; bidDeposit?: bigint; minEscrow?: bigint } = {},
) {
  const devnet = await startDevnet({ accounts: 2 })
  const owner = devnet.walletClients[0]!
  const { publicClient } = devnet
  const token = devnet.addresses.token
  const rpc = async <T = unknown>(method: string, params: unknown[] = []) =>
    (await publicClient.request({ method, params } as never)) as T
  const market = await deployMarket(publicClient, owner, {
    token,
    bidDeposit: options.bidDeposit ?? BID_DEPOSIT,
    minEscrow: options.minEscrow ?? MIN_ESCROW,
  })
  const tokenWrite = async (wallet: Wallet, functionName: string, args: readonly unknown[]) => {
    const hash = await wallet.writeContract({
      address: token,
      abi: verityTokenAbi,
      functionName,
      args,
    } as Parameters<Wallet['writeContract']>[0])
    const r = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 })
    if (r.status !== 'success') throw new Error(`token ${functionName} reverted`)
  }
  // actors: fresh keys with ETH, VTY and an unlimited allowance to the market
  const actors: Wallet[] = []
  const tag = options.tag ?? 'market'
  for (let i = 0; i < (options.actors ?? 8); i++) {
    const account = privateKeyToAccount(keccak256(toHex(`${tag}:${i}`)))
    await rpc('anvil_setBalance', [account.address, toHex(10n ** 22n)])
    const w = createWalletClient({
      account,
      chain: devnet.chain,
      transport: http(devnet.rpcUrl),
      pollingInterval: 20,
    }) as unknown as Wallet
    actors.push(w)
    await tokenWrite(owner, 'transfer', [account.address, ACTOR_FUNDS])
    await tokenWrite(w, 'approve', [market, 2n ** 255n])
  }
  const balanceOf = async (who: Address) =>
    await publicClient.readContract({
      address: token,
      abi: verityTokenAbi,
      functionName: 'balanceOf',
      args: [who],
    })
  const mine = async (blocks: bigint | number) => {
    if (BigInt(blocks) > 0n) await rpc('anvil_mine', [toHex(BigInt(blocks))])
  }
  const blockNumber = async () => await publicClient.getBlockNumber({ cacheTime: 0 })

  /** Expects `call` to revert with the market's custom error `name` (and these args, if given). */
  const reverts = async (call: Promise<unknown>, name: string, args?: readonly unknown[]) => {
    let caught: unknown
    try {
      await call
    } catch (error) {
      caught = error
    }
    if (!(caught instanceof BaseError)) throw new Error(`expected a revert with ${name}`)
    const revert = caught.walk((e) => e instanceof ContractFunctionRevertedError) as
      | ContractFunctionRevertedError
      | undefined
    if (!revert) throw new Error(`expected ${name}, got: ${caught.shortMessage}`)
    if (revert.data?.errorName !== name)
      throw new Error(`expected ${name}, got ${revert.data?.errorName ?? revert.shortMessage}`)
    if (args !== undefined && JSON.stringify(revert.data.args, big) !== JSON.stringify(args, big))
      throw new Error(
        `${name}: args ${JSON.stringify(revert.data.args, big)}, expected ${JSON.stringify(args, big)}`,
      )
  }

  let snap = await rpc<Hex>('evm_snapshot')
  /** Returns the chain to its state after setup, keeping the block height growing. */
  const reset = async () => {
    const height = await blockNumber()
    await rpc('evm_revert', [snap])
    await mine(height - (await blockNumber()) + 1n)
    snap = await rpc<Hex>('evm_snapshot')
  }

  return {
    devnet,
    market,
    token,
    owner,
    actors,
    rpc,
    balanceOf,
    mine,
    blockNumber,
    reverts,
    reset,
    stop: devnet.stop,
  }
}

function big(_key: string, value: unknown) {
  return typeof value === 'bigint' ? value.toString() : value
}
