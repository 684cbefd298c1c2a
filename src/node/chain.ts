import {
  type Account,
  type Address,
  type Chain,
  type Client,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  nonceManager,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { readContract } from 'viem/actions'
import { verityAbi } from '../chain/abis.ts'
import { getHyperparams } from '../chain/actions/getHyperparams.ts'
import { getNode } from '../chain/actions/getNode.ts'
import { getSubnet } from '../chain/actions/getSubnet.ts'
import { serveNode } from '../chain/actions/serveNode.ts'
import { ChainCalls, countedTransport } from './chain-calls.ts'
import { type Peer, peerIdFromBytes, peerIdToBytes } from './peer.ts'

/** What a node needs to talk to the chain as its hotkey. */
export type ChainContext = {
  chainId: number
  /** The Verity contract. */
  address: Address
  netuid: number
  /** The DisputeGame the core names, when the deployment has one (from its manifest). */
  disputeGame?: Address
  publicClient: PublicClient<Transport, Chain>
  walletClient: WalletClient<Transport, Chain, Account>
  /** Requests the clients sent, when they count them (connectChain's do): metrics and health. */
  calls?: ChainCalls
}

/** Clients for `rpcUrl` acting as `account` on the Verity core at `address` (from a manifest). */
export async function connectChain(options: {
  rpcUrl: string
  account: LocalAccount
  netuid: number
  address: Address
  disputeGame?: Address
  signal?: AbortSignal
}): Promise<ChainContext> {
  const calls = new ChainCalls()
  const transport = countedTransport(
    http(options.rpcUrl, { timeout: 30_000, retryCount: 1 }),
    calls,
  )
  const probe = createPublicClient({ transport })
  const chainId = await probe.getChainId()
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  })
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 100 })
  // A node sends from one wallet on several paths at once (weights, dispute moves, bonds): one
  // nonce manager per address hands each its own nonce (a failed send resets it).
  const account: LocalAccount = options.account.nonceManager
    ? options.account
    : { ...options.account, nonceManager }
  const walletClient = createWalletClient({
    account,
    chain,
    transport,
    pollingInterval: 100,
  })
  return {
    chainId,
    address: options.address,
    netuid: options.netuid,
    ...(options.disputeGame ? { disputeGame: options.disputeGame } : {}),
    publicClient,
    walletClient,
    calls,
  }
}

/**
 * The dispute game the core names (`disputeGame()`, set by governance), or undefined when it
 * names none: a node that trusts the core trusts the game the core lets slash.
 */
export async function readDisputeGame(
  ctx: Pick<ChainContext, 'address' | 'publicClient'>,
  options: { signal?: AbortSignal } = {},
): Promise<Address | undefined> {
  options.signal?.throwIfAborted()
  const game = await readContract(ctx.publicClient, {
    address: ctx.address,
    abi: verityAbi,
    functionName: 'disputeGame',
  })
  return /^0x0{40}$/.test(game) ? undefined : game
}

/** Publishes the peer's id and listen addresses on chain for the wallet's hotkey. */
export async function publishNode(
  ctx: ChainContext,
  peer: Peer,
  options: { signal?: AbortSignal } = {},
) {
  return await serveNode(
    ctx.walletClient,
    {
      address: ctx.address,
      netuid: ctx.netuid,
      peerId: peerIdToBytes(peer.peerId),
      multiaddrs: peer.getMultiaddrs().map((m) => m.toString()),
    },
    options,
  )
}

export type NeuronNode = {
  uid: number
  hotkey: Address
  /** Absent when the hotkey has published nothing. */
  peerId?: string
  multiaddrs: string[]
  validatorPermit: boolean
  incentive: number
  emission: bigint
  registrationBlock: number
}

/** Every uid of the subnet with its published libp2p address (the chain half of discovery). */
export async function readNeurons(
  ctx: Pick<ChainContext, 'address' | 'netuid'> & { publicClient: Client<Transport, Chain> },
  options: { signal?: AbortSignal } = {},
): Promise<NeuronNode[]> {
  options.signal?.throwIfAborted()
  const neurons = await readContract(ctx.publicClient, {
    address: ctx.address,
    abi: verityAbi,
    functionName: 'metagraph',
    args: [ctx.netuid],
  })
  return await Promise.all(
    neurons.map(async (n, uid) => {
      const [peerId, multiaddrs] = await getNode(ctx.publicClient, {
        address: ctx.address,
        netuid: ctx.netuid,
        hotkey: n.hotkey,
      })
      let id: string | undefined
      if (peerId !== '0x') {
        try {
          id = peerIdFromBytes(peerId).toString()
        } catch {
          id = undefined
        }
      }
      return {
        uid,
        hotkey: n.hotkey,
        ...(id === undefined ? {} : { peerId: id }),
        multiaddrs: [...multiaddrs],
        validatorPermit: n.validatorPermit,
        incentive: n.incentive,
        emission: BigInt(n.emission),
        registrationBlock: Number(n.registrationBlock),
      }
    }),
  )
}

/** The subnet's epoch index and the hyperparameters a validator needs. */
export async function readEpoch(ctx: ChainContext, options: { signal?: AbortSignal } = {}) {
  const info = await getSubnet(
    ctx.publicClient,
    { address: ctx.address, netuid: ctx.netuid },
    options,
  )
  return { epoch: Number(info[4]), modelRoot: info[2] }
}

export async function readHyperparams(ctx: ChainContext, options: { signal?: AbortSignal } = {}) {
  return await getHyperparams(
    ctx.publicClient,
    { address: ctx.address, netuid: ctx.netuid },
    options,
  )
}
