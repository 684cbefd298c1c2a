import { describe, expect, it } from 'vitest'
import { verityTokenAbi } from './abis.ts'
import { startDevnet } from './devnet.ts'

describe('startDevnet', () => {
  it('starts anvil on a loopback port, deploys, and stops it', async () => {
    const devnet = await startDevnet({ accounts: 3 })
    // a balance only this node has: other test files start anvils that may reuse the port
    const marker = '0x00000000000000000000000000000000000000aa'
    const call = (method: string, params: unknown[]) =>
      fetch(devnet.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      }).then((r) => r.json() as Promise<{ result: string }>)
    try {
      await call('anvil_setBalance', [marker, '0x7e57'])
      expect((await call('eth_getBalance', [marker, 'latest'])).result).toBe('0x7e57')
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
    // stopped: nothing answers, or a different node does
    const after = await call('eth_getBalance', [marker, 'latest']).catch(() => null)
    expect(after?.result ?? null).not.toBe('0x7e57')
  })

  it('honours an aborted signal', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(startDevnet({ signal: controller.signal })).rejects.toThrow()
  })
})
