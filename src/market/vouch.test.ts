import { privateKeyToAccount } from 'viem/accounts'
import { expect, it } from 'vitest'
import { leaseDelegationMessage, leaseSigningKey, vouchedSigner } from './provider.ts'

const provider = privateKeyToAccount(`0x${'11'.repeat(32)}`)
const stranger = privateKeyToAccount(`0x${'22'.repeat(32)}`)
const scope = {
  chainId: 31337,
  market: '0x00000000000000000000000000000000000000aa',
  leaseId: 7n,
} as const

async function statement(
  by = provider,
  s: typeof scope | { chainId: number; market: `0x${string}`; leaseId: bigint } = scope,
) {
  const signer = privateKeyToAccount(await leaseSigningKey(provider, s)).address
  const message = leaseDelegationMessage(s, signer)
  return { signer, message, delegation: await by.signMessage({ message }) }
}

it("vouchedSigner takes only the lease's own statement, signed by its provider", async () => {
  const good = await statement()
  expect(await vouchedSigner(good, scope, provider.address)).toEqual({ signer: good.signer })
  // the same key derives again (a restarted provider), another lease derives another
  expect((await statement()).signer).toBe(good.signer)
  expect((await statement(provider, { ...scope, leaseId: 8n })).signer).not.toBe(good.signer)
  for (const other of [
    { ...scope, leaseId: 8n },
    { ...scope, chainId: 1 },
    { ...scope, market: '0x00000000000000000000000000000000000000bb' as const },
  ]) {
    const r = await vouchedSigner(await statement(provider, other), scope, provider.address)
    expect(r).toEqual({
      problem: "the provider's receipt-signer statement is not lease 7's on this market and chain",
    })
  }
  const forged = await vouchedSigner(await statement(stranger), scope, provider.address)
  expect('problem' in forged && forged.problem).toMatch(
    /signed by 0x[0-9a-fA-F]{40}, not by the lease's provider/,
  )
  for (const bad of [
    undefined,
    {},
    { ...good, signer: 'nobody' as `0x${string}` },
    { ...good, delegation: '0x00' as const },
  ])
    expect('problem' in (await vouchedSigner(bad, scope, provider.address))).toBe(true)
})
