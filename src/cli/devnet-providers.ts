import { join } from 'node:path'
import { type Address, type Hex, parseEther } from 'viem'
import { transferToken } from '../chain/actions/transferToken.ts'
import type { Devnet } from '../chain/devnet.ts'
import { scalePricing } from '../market/pricing.ts'
import { type RunningProvider, startProvider } from '../market/start.ts'

const REGIONS = ['eu-west', 'us-east', 'ap-south'] as const

/** VTY each devnet provider gets for bid deposits. */
const PROVIDER_FUNDS = parseEther('100')

/**
 * The devnet's providers: account `indexes[i]` rents out this machine with the devnet's model at
 * 0.001 x (i + 1) VTY per block, in region eu-west, us-east, ap-south in turn, each with 2 CPUs
 * and 4 GiB to lease.
 */
export async function startDevnetProviders(
  devnet: Devnet,
  options: {
    indexes: readonly number[]
    market: Address
    dataDir: string
    modelPath: string
    modelRoot: Hex
    pollMs?: number
  },
): Promise<(RunningProvider & { label: string })[]> {
  const started: (RunningProvider & { label: string })[] = []
  try {
    for (const [n, i] of options.indexes.entries()) {
      await transferToken(devnet.walletClients[0]!, {
        token: devnet.addresses.token,
        to: devnet.accounts[i]!.address,
        amount: PROVIDER_FUNDS,
      })
      const price = parseEther('0.001') * BigInt(n + 1)
      const region = REGIONS[n % REGIONS.length]!
      const p = await startProvider({
        publicClient: devnet.publicClient,
        wallet: devnet.walletClients[i]!,
        account: devnet.accounts[i]!.account,
        rpcUrl: devnet.rpcUrl,
        market: options.market,
        token: devnet.addresses.token,
        verifyingContract: devnet.addresses.verity,
        attributes: { region, tier: 'community' },
        capacity: { cpuMilli: 2000, gpuUnits: 0, memoryBytes: 4n << 30n, storageBytes: 10n << 30n },
        models: [{ path: options.modelPath, root: options.modelRoot }],
        pricing: scalePricing({
          base: price,
          perCpuMilli: 0n,
          perMemoryMiB: 0n,
          perStorageMiB: 0n,
          perGpu: 0n,
        }),
        dataDir: join(options.dataDir, `provider-${i}`),
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      })
      started.push(Object.assign(p, { label: `region ${region}, ${price} wei per block` }))
    }
  } catch (error) {
    for (const p of started) await p.stop().catch(() => {})
    throw error
  }
  return started
}
