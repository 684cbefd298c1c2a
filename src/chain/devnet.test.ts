import { describe, expect, it } from 'vitest'
import { verityTokenAbi } from './abis.ts'
import { startDevnet } from './devnet.ts'

describe('startDevnet', () => {
  it('starts anvil on a loopback port, deploys, and stops it', async () => {
    const devnet = await startDevnet({ accounts: 3 })
    try {
      expect(devnet.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(devnet.accounts).toHaveLength(3)
      const minter = await devnet.publicClient.readContract({
        address: devnet.addresses.token,
        abi: verityTokenAbi,
        functionName: 'minter',
      })
      expect(minter).toBe(devnet.addresses.verity)
    } finally {
      await devnet.stop()
    }
    await expect(fetch(devnet.rpcUrl)).rejects.toThrow()
  })

  it('honours an aborted signal', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(startDevnet({ signal: controller.signal })).rejects.toThrow()
  })
})
