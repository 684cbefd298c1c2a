import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  getAddress,
  type Hex,
  parseEther,
  toHex,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { type SignedVoucher, signVoucher, type VoucherDomain } from '../verify/voucher.ts'
import { paymentChannelsAbi, verityTokenAbi } from './abis.ts'
import type { Devnet } from './devnet.ts'
import { waitMined } from './dispute.ts'
import { deployPaymentChannels } from './payments.ts'

/**
 * Helpers for payment-channel tests and the gas bench over a devnet: deploy PaymentChannels, fund
 * and approve actors, sign vouchers, read balances and channels, and name the custom error a call
 * reverted with. For tests and benches only.
 */
export type Wallet = Devnet['walletClients'][number]

export const CHALLENGE_PERIOD = 20n
export const SETTLE_GRACE = 30n

export type PaymentsChain = Awaited<ReturnType<typeof setupPayments>>

export async function setupPayments(
  devnet: Devnet,
  options: {
    funder: Wallet
    actors: Wallet[]
    disputeGame: Address
    funds?: bigint
    /** Other bytecode for the contract (a mutant, to check that the checks catch it). */
    bytecode?: Hex
  },
) {
  const { publicClient } = devnet
  const token = devnet.addresses.token
  const args = [token, options.disputeGame, CHALLENGE_PERIOD, SETTLE_GRACE] as const
  const payments = options.bytecode
    ? getAddress(
        (
          await waitMined(
            publicClient,
            await options.funder.deployContract({
              abi: paymentChannelsAbi,
              bytecode: options.bytecode,
              args,
            }),
          )
        ).contractAddress!,
      )
    : await deployPaymentChannels(publicClient, options.funder, {
        token,
        disputeGame: options.disputeGame,
        challengePeriod: CHALLENGE_PERIOD,
        settleGrace: SETTLE_GRACE,
      })
  const send = async (wallet: Wallet, functionName: string, args: readonly unknown[]) => {
    const hash = await wallet.writeContract({
      address: token,
      abi: verityTokenAbi,
      functionName,
      args,
    } as Parameters<Wallet['writeContract']>[0])
    const r = await waitMined(publicClient, hash)
    if (r.status !== 'success') throw new Error(`token ${functionName} reverted`)
  }
  for (const w of options.actors) {
    if (w !== options.funder)
      await send(options.funder, 'transfer', [
        w.account.address,
        options.funds ?? parseEther('1000'),
      ])
    await send(w, 'approve', [payments, 2n ** 255n])
  }
  const domain: VoucherDomain = { chainId: devnet.chain.id, verifyingContract: payments }
  const rpc = async <T = unknown>(method: string, params: unknown[] = []) =>
    (await publicClient.request({ method, params } as never)) as T
  return {
    payments,
    domain,
    rpc,
    balance: async (who: Address | Wallet) =>
      await publicClient.readContract({
        address: token,
        abi: verityTokenAbi,
        functionName: 'balanceOf',
        args: [typeof who === 'string' ? who : who.account.address],
      }),
    block: async () => await publicClient.getBlockNumber({ cacheTime: 0 }),
    mine: async (n: bigint) => {
      if (n > 0n) await rpc('anvil_mine', [toHex(n)])
    },
    voucher: async (
      payer: Wallet | LocalAccount,
      channelId: Hex,
      cumulativeAmount: bigint,
      receiptDigest: Hex = toHex(cumulativeAmount, { size: 32 }),
      at: VoucherDomain = domain,
    ): Promise<SignedVoucher> =>
      await signVoucher('account' in payer ? payer.account : payer, at, {
        channelId,
        cumulativeAmount,
        receiptDigest,
      }),
    channel: async (channelId: Hex) =>
      await publicClient.readContract({
        address: payments,
        abi: paymentChannelsAbi,
        functionName: 'getChannel',
        args: [channelId],
      }),
  }
}

/** The custom error a call reverted with ('no revert' when it did not). */
export async function revertName(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (error) {
    if (error instanceof BaseError) {
      const revert = error.walk((e) => e instanceof ContractFunctionRevertedError)
      if (revert instanceof ContractFunctionRevertedError)
        return revert.data?.errorName ?? revert.shortMessage
    }
    throw error
  }
  return 'no revert'
}

/** The custom error's arguments a call reverted with. */
export async function revertArgs(p: Promise<unknown>): Promise<readonly unknown[]> {
  try {
    await p
  } catch (error) {
    if (error instanceof BaseError) {
      const revert = error.walk((e) => e instanceof ContractFunctionRevertedError)
      if (revert instanceof ContractFunctionRevertedError) return revert.data?.args ?? []
    }
    throw error
  }
  throw new Error('no revert')
}
