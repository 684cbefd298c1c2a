import type { Address, Chain, Client, Transport } from 'viem'
import { getBlockNumber, getChainId } from 'viem/actions'
import { getSubnet } from '../chain/actions/getSubnet.ts'
import { getUid } from '../chain/actions/getUid.ts'
import type { SignedReceipt } from '../types/inference.ts'
import type { Mismatch } from './response.ts'

/**
 * Checks on chain that a receipt's signer counted when it signed: the chain is the receipt's,
 * the receipt names the Verity contract the caller trusts, and at the receipt's issuedBlock its
 * minerHotkey held a uid on the subnet and the subnet served the receipt's modelRoot. The block
 * must not be in the future. Reads historical state (any archive node; anvil keeps it all).
 */
export async function checkRegistration(
  client: Client<Transport, Chain>,
  receipt: SignedReceipt,
  contract: Address,
  options: { signal?: AbortSignal } = {},
): Promise<Mismatch[]> {
  const out: Mismatch[] = []
  const chainId = await getChainId(client)
  if (chainId !== receipt.chainId)
    return [
      { field: 'receipt.chainId', problem: `${receipt.chainId}, the RPC is chain ${chainId}` },
    ]
  if (receipt.verifyingContract.toLowerCase() !== contract.toLowerCase())
    return [
      {
        field: 'receipt.verifyingContract',
        problem: `${receipt.verifyingContract}, not the Verity contract ${contract}`,
      },
    ]
  const head = await getBlockNumber(client, { cacheTime: 0 })
  if (BigInt(receipt.issuedBlock) > head)
    return [
      {
        field: 'receipt.issuedBlock',
        problem: `${receipt.issuedBlock} is after the chain's head ${head}`,
      },
    ]
  const at = { ...options, blockNumber: BigInt(receipt.issuedBlock) }
  try {
    await getUid(
      client,
      { address: contract, netuid: receipt.netuid, hotkey: receipt.minerHotkey },
      at,
    )
  } catch {
    out.push({
      field: 'receipt.minerHotkey',
      problem: `${receipt.minerHotkey} held no uid on subnet ${receipt.netuid} at block ${receipt.issuedBlock}: its signature does not count`,
    })
  }
  try {
    const info = await getSubnet(client, { address: contract, netuid: receipt.netuid }, at)
    if (info[2].toLowerCase() !== receipt.modelRoot.toLowerCase())
      out.push({
        field: 'receipt.modelRoot',
        problem: `subnet ${receipt.netuid} served model ${info[2]} at block ${receipt.issuedBlock}, not ${receipt.modelRoot}`,
      })
  } catch {
    out.push({
      field: 'receipt.netuid',
      problem: `subnet ${receipt.netuid} does not exist at block ${receipt.issuedBlock}`,
    })
  }
  return out
}
