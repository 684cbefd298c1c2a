import type { Address, Chain, Client, Transport } from 'viem'
import { getLease } from '../chain/actions/getLease.ts'
import { getOrder } from '../chain/actions/getOrder.ts'
import { getProvider } from '../chain/actions/getProvider.ts'
import { getSpec } from '../chain/actions/getSpec.ts'
import { LeaseState } from '../chain/market.ts'
import type { SignedReceipt } from '../types/inference.ts'
import { type LeaseSignerStatement, vouchedSigner } from './provider.ts'
import { parseDeploymentSpec } from './spec.ts'

/** A check that failed, named like verify's other mismatches. */
export type LeaseMismatch = { field: string; problem: string }

/**
 * What stands behind a leased deployment's receipt (netuid 0: no subnet): the lease exists on
 * the market and ran when the receipt was issued, its published spec serves the receipt's model,
 * and the lease's provider signed that the receipt's signer is this lease's key (the statement its
 * ingress serves at /leases/<id>). Empty when all hold.
 *
 * @example
 * const found = await checkLeaseReceipt(publicClient, { market, leaseId, receipt })
 */
export async function checkLeaseReceipt(
  client: Client<Transport, Chain>,
  params: { market: Address; leaseId: bigint; receipt: SignedReceipt; fromBlock?: bigint },
  options: { signal?: AbortSignal; fetchTimeoutMs?: number } = {},
): Promise<LeaseMismatch[]> {
  const { market, leaseId, receipt } = params
  const lease = await getLease(client, { address: market, leaseId })
  if (lease.state === LeaseState.NONE)
    return [{ field: 'lease', problem: `lease ${leaseId} does not exist on market ${market}` }]
  const issued = BigInt(receipt.issuedBlock)
  const end = lease.state === LeaseState.ACTIVE ? undefined : lease.closedBlock
  if (issued < lease.startBlock || (end !== undefined && issued > end))
    return [
      {
        field: 'receipt.issuedBlock',
        problem: `block ${issued} is outside lease ${leaseId} (blocks ${lease.startBlock} to ${end ?? 'now'})`,
      },
    ]
  const out: LeaseMismatch[] = []
  const order = await getOrder(client, { address: market, orderId: lease.orderId })
  const bytes = await getSpec(client, {
    address: market,
    orderId: lease.orderId,
    ...(params.fromBlock === undefined ? {} : { fromBlock: params.fromBlock }),
  })
  if (!bytes) out.push({ field: 'lease', problem: `order ${lease.orderId} has no published spec` })
  else {
    const spec = parseDeploymentSpec(new TextDecoder().decode(bytes), {
      source: `order ${order.specHash}`,
    })
    const roots = Object.values(spec.services).map((s) => s.model.root.toLowerCase())
    if (!roots.includes(receipt.modelRoot.toLowerCase()))
      out.push({
        field: 'receipt.modelRoot',
        problem: `lease ${leaseId}'s spec serves ${roots.join(', ')}, not ${receipt.modelRoot}`,
      })
  }
  const provider = await getProvider(client, { address: market, provider: lease.provider })
  const url = `${provider.hostUri.replace(/\/+$/, '')}/leases/${leaseId}`
  let statement: Partial<LeaseSignerStatement> | undefined
  try {
    const res = await fetch(url, {
      signal: options.signal ?? AbortSignal.timeout(options.fetchTimeoutMs ?? 10_000),
    })
    if (res.ok) statement = ((await res.json()) as { receipts?: typeof statement }).receipts
  } catch {
    // the statement is missing: reported below
  }
  const vouched = await vouchedSigner(
    statement,
    { chainId: receipt.chainId, market, leaseId },
    lease.provider,
  )
  if ('problem' in vouched) out.push({ field: 'lease', problem: `${vouched.problem} (at ${url})` })
  else if (vouched.signer.toLowerCase() !== receipt.minerHotkey.toLowerCase())
    out.push({
      field: 'receipt.minerHotkey',
      problem: `lease ${leaseId}'s provider names ${vouched.signer} as its receipt signer, not ${receipt.minerHotkey}`,
    })
  return out
}
