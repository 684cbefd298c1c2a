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
import { expect } from 'vitest'
import { verityAbi, verityTokenAbi } from './abis.ts'
import { executeGovernanceChange } from './actions/executeGovernanceChange.ts'
import { type GovernanceChange, queueGovernanceChange } from './actions/queueGovernanceChange.ts'
import { runEpoch } from './actions/runEpoch.ts'
import { type Devnet, type DevnetOptions, startDevnet } from './devnet.ts'
import { DEFAULT_HYPERPARAMS, type Hyperparams } from './types.ts'

/**
 * Test helpers over a devnet: funded keys, writes that must succeed, reads, reverts that must name
 * their custom error and leave the protocol's state as it was, governance through its delay, and
 * epochs run when due. For tests only.
 */
export type Wallet = Devnet['walletClients'][number]

/** A subnet anyone can use at once: no burn, no rate limit, no permit needed, tempo 5. */
export const OPEN: Hyperparams = {
  ...DEFAULT_HYPERPARAMS,
  tempo: 5,
  maxUids: 8,
  maxValidators: 4,
  immunityPeriod: 0,
  weightsRateLimit: 0,
  weightsNeedPermit: false,
  minAllowedWeights: 0,
  burn: parseEther('1'),
  minBurn: 0n,
  maxBurn: parseEther('100'),
  maxRegistrationsPerBlock: 0,
  targetRegistrationsPerInterval: 0,
  adjustmentInterval: 0,
  ownerCut: 0,
}

export type TestChain = Awaited<ReturnType<typeof startTestChain>>

export async function startTestChain(
  options: { keys?: number; tag?: string; devnet?: DevnetOptions } = {},
) {
  const devnet = await startDevnet({ accounts: 2, ...options.devnet })
  const owner = devnet.walletClients[0]!
  const verity = devnet.addresses.verity
  const rpc = async (method: string, params: unknown[] = []): Promise<unknown> =>
    await devnet.publicClient.request({ method, params } as never)
  // the devnet's token speaks VTY's ABI; any other address is taken for a Verity contract
  const abiOf = (address: Address) =>
    address === devnet.addresses.token ? verityTokenAbi : verityAbi
  const wait = async (hash: Hex) =>
    await devnet.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 })

  /** Sends a transaction that must succeed. */
  const write = async (
    wallet: Wallet,
    functionName: string,
    args: readonly unknown[],
    address: Address = verity,
  ) => {
    const hash = await wallet.writeContract({
      address,
      abi: abiOf(address),
      functionName,
      args,
    } as Parameters<Wallet['writeContract']>[0])
    const receipt = await wait(hash)
    expect(receipt.status, `${functionName} should succeed`).toBe('success')
    return receipt
  }
  const read = async <T>(
    functionName: string,
    args: readonly unknown[] = [],
    address: Address = verity,
  ): Promise<T> =>
    (await devnet.publicClient.readContract({
      address,
      abi: abiOf(address),
      functionName,
      args,
    } as Parameters<typeof devnet.publicClient.readContract>[0])) as T
  const token = (wallet: Wallet, functionName: string, args: readonly unknown[]) =>
    write(wallet, functionName, args, devnet.addresses.token)
  const balance = (address: Address) => read<bigint>('balanceOf', [address], devnet.addresses.token)
  const clock = async () => BigInt(await read<number>('clock'))
  const mine = async (blocks: number | bigint) => {
    if (BigInt(blocks) > 0n) await rpc('anvil_mine', [toHex(blocks)])
  }

  /** Everything a failed call could have touched, to show it did not. */
  const digest = async (): Promise<string> => {
    const count = await read<number>('subnetCount')
    const subnets = []
    for (let i = 1; i <= count; i++) {
      subnets.push(
        await read('subnetInfo', [i]),
        await read('metagraph', [i]),
        await read('hyperparams', [i]),
        await read('subnetEconomics', [i]),
        await read('pendingChanges', [i]),
        await read('epochStage', [i]),
      )
    }
    const state = [
      await read('totals'),
      await read('totalSupply', [], devnet.addresses.token),
      await read('balanceOf', [verity], devnet.addresses.token),
      await read('protocolParams'),
      await read('guardian'),
      await read('disputeGame'),
      await read('owner'),
      await read('pendingOwner'),
      await read('paused'),
      await read('totalEmissionShare'),
      subnets,
    ]
    return JSON.stringify(state, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
  }

  /** Expects the call to revert with custom error `name` and to leave the state unchanged. */
  const reverts = async (
    wallet: Wallet,
    functionName: string,
    args: readonly unknown[],
    name: string,
    address: Address = verity,
  ) => {
    const before = await digest()
    let caught: unknown
    try {
      await wallet.writeContract({
        address,
        abi: abiOf(address),
        functionName,
        args,
      } as Parameters<Wallet['writeContract']>[0])
    } catch (error) {
      caught = error
    }
    expect(caught, `${functionName} should revert with ${name}`).toBeInstanceOf(BaseError)
    const revert = (caught as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
    expect(revert, `${functionName}: ${String(caught)}`).toBeInstanceOf(
      ContractFunctionRevertedError,
    )
    expect((revert as ContractFunctionRevertedError).data?.errorName).toBe(name)
    expect(await digest()).toBe(before)
  }

  /** Creates a subnet owned by `wallet` (default: the owner), whatever the lock. */
  const subnet = async (params: Hyperparams = OPEN, wallet: Wallet = owner): Promise<number> => {
    await write(wallet, 'createSubnet', [params, parseEther('1000000')])
    return await read<number>('subnetCount')
  }

  /** Queues a governance change, mines through its delay and executes it (from `executor`). */
  const govern = async (change: GovernanceChange, executor: Wallet = owner) => {
    const q = await queueGovernanceChange(owner, { address: verity, change })
    const now = await clock()
    await mine(q.eta > now ? q.eta - now : 0n)
    await executeGovernanceChange(executor, {
      address: verity,
      kind: q.kind,
      data: q.data,
      nonce: q.nonce,
    })
    return q
  }

  /** Mines up to the subnet's due block and runs a whole epoch (as `wallet`). */
  const epoch = async (netuid: number, wallet: Wallet = owner) => {
    const [due] = await read<readonly [bigint, bigint, bigint]>('epochInfo', [netuid])
    const now = await clock()
    await mine(due > now ? due - now : 0n)
    return await runEpoch(wallet, { address: verity, netuid })
  }

  // funded keys with VTY and an allowance
  const keys: Wallet[] = []
  const tag = options.tag ?? 'test-chain'
  for (let i = 0; i < (options.keys ?? 10); i++) {
    const account = privateKeyToAccount(keccak256(toHex(`${tag}:${i}`)))
    await rpc('anvil_setBalance', [account.address, toHex(10n ** 22n)])
    const w = createWalletClient({
      account,
      chain: devnet.chain,
      transport: http(devnet.rpcUrl),
    }) as unknown as Wallet
    keys.push(w)
    await token(owner, 'transfer', [account.address, parseEther('1000')])
    await token(w, 'approve', [verity, 2n ** 255n])
  }
  await token(owner, 'approve', [verity, 2n ** 255n])

  let snap = (await rpc('evm_snapshot')) as Hex
  /** Returns the chain to its state after setup (call in beforeEach). */
  const reset = async () => {
    // viem's receipt watchers wait for a block number above the highest they saw: keep the
    // height growing across reverts so that none of them waits for a block that already was
    const height = await devnet.publicClient.getBlockNumber({ cacheTime: 0 })
    await rpc('evm_revert', [snap])
    const back = await devnet.publicClient.getBlockNumber({ cacheTime: 0 })
    await mine(height - back + 1n)
    snap = (await rpc('evm_snapshot')) as Hex
  }

  return {
    devnet,
    owner,
    keys,
    verity,
    rpc,
    write,
    read,
    token,
    balance,
    clock,
    mine,
    digest,
    reverts,
    subnet,
    govern,
    epoch,
    reset,
    stop: () => devnet.stop(),
  }
}
