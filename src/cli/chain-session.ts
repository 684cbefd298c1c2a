import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { loadKey, readPassphrase } from '../node/wallet.ts'
import type { ParsedArgs } from './args.ts'
import { type ChainTarget, resolveChainTarget } from './chain-target.ts'
import { stringFlag } from './values.ts'

type Flags = ParsedArgs['flags']

/** A resolved chain target with a client to read it. */
export type ChainSession = ChainTarget & {
  chain: Chain
  publicClient: PublicClient<Transport, Chain>
}

export type Signer = WalletClient<Transport, Chain, PrivateKeyAccount>

/** A viem chain and public client for an RPC URL whose chain id is known. */
export function clientsAt(
  rpcUrl: string,
  chainId: number,
): { chain: Chain; publicClient: PublicClient<Transport, Chain> } {
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
  const transport = http(rpcUrl, { timeout: 60_000, retryCount: 1 })
  return { chain, publicClient: createPublicClient({ chain, transport, pollingInterval: 100 }) }
}

/** Resolves --rpc/--deployment (checked against each other) and connects. */
export async function openChain(flags: Flags): Promise<ChainSession> {
  const target = await resolveChainTarget(flags)
  return { ...target, ...clientsAt(target.rpcUrl, target.chainId) }
}

/** The account of the keyfile at --<flag>, decrypted with --passphrase-file or VERITY_PASSPHRASE. */
export function loadAccount(flags: Flags, chainId: number, flag = 'key'): PrivateKeyAccount {
  const path = stringFlag(flags, flag, `--${flag} <keyfile> is required: the account that signs`)
  const passphrase = readPassphrase({
    file: typeof flags['passphrase-file'] === 'string' ? flags['passphrase-file'] : undefined,
  })
  return loadKey(path, passphrase, { chainId })
}

/** A wallet client signing as `account` on the session's chain. */
export function signerFor(
  session: Pick<ChainSession, 'chain' | 'rpcUrl'>,
  account: PrivateKeyAccount,
): Signer {
  return createWalletClient({
    account,
    chain: session.chain,
    transport: http(session.rpcUrl, { timeout: 120_000, retryCount: 0 }),
    pollingInterval: 100,
  })
}

/** Flags every key-signing command takes. */
export const KEY_FLAGS = {
  key: { type: 'string' },
  'passphrase-file': { type: 'string' },
} as const

/** VTY the address holds. */
export async function vtyBalance(session: ChainSession, address: Address): Promise<bigint> {
  return await session.publicClient.readContract({
    address: session.deployment.contracts.token,
    abi: erc20Abi,
    functionName: 'balanceOf',
    args: [address],
  })
}
