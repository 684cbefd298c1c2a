import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveChainTarget } from '../cli/chain-target.ts'
import {
  ABI_VERSION,
  checkDeployment,
  type Deployment,
  formatDeployment,
  parseDeployment,
  readDeployment,
  writeDeployment,
} from './deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from './devnet.ts'

const dir = mkdtempSync(join(tmpdir(), 'verity-deployment-'))
let devnet: Devnet
let deployment: Deployment
beforeAll(async () => {
  devnet = await startDevnet({ accounts: 2 })
  deployment = devnetDeployment(devnet)
}, 60_000)
afterAll(async () => {
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('deployment manifests', () => {
  it('round-trip through a file with checksummed addresses and the block as a decimal string', async () => {
    const path = join(dir, 'ok.json')
    writeDeployment(path, deployment)
    const back = await readDeployment(path)
    expect(back).toEqual({ ...deployment, block: 0n })
    const json = JSON.parse(formatDeployment(deployment))
    expect(json.abiVersion).toBe(ABI_VERSION)
    expect(json.block).toBe('0')
    expect(json.contracts.verity).toBe(devnet.addresses.verity)
  })

  it('are read from an http URL', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/deployment.json') res.end(formatDeployment(deployment))
      else res.writeHead(404).end()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as { port: number }
    try {
      expect((await readDeployment(`http://127.0.0.1:${port}/deployment.json`)).chainId).toBe(31337)
      await expect(readDeployment(`http://127.0.0.1:${port}/nope.json`)).rejects.toThrow(/HTTP 404/)
    } finally {
      server.close()
    }
  })

  it('refuse what is not a manifest of this ABI, naming the problem', async () => {
    const good = JSON.parse(formatDeployment(deployment))
    const bad = (patch: (j: typeof good) => void) => {
      const j = structuredClone(good)
      patch(j)
      return JSON.stringify(j)
    }
    expect(() => parseDeployment('{', 'm.json')).toThrow(/m.json is not JSON/)
    expect(() =>
      parseDeployment(
        bad((j) => delete j.contracts.verity),
        'm.json',
      ),
    ).toThrow(/m.json: contracts must have required property 'verity'/)
    expect(() =>
      parseDeployment(
        bad((j) => {
          j.contracts.token = '0x1234'
        }),
        'm.json',
      ),
    ).toThrow(/contracts.token must match pattern/)
    expect(() =>
      parseDeployment(
        bad((j) => {
          j.chainId = -1
        }),
        'm.json',
      ),
    ).toThrow(/chainId must be >= 1/)
    expect(() =>
      parseDeployment(
        bad((j) => {
          j.format = 'verity-deployment/0'
        }),
        'm.json',
      ),
    ).toThrow(/format must be equal to constant/)
    expect(() =>
      parseDeployment(
        bad((j) => {
          j.abiVersion = '0123456789abcdef'
        }),
        'm.json',
      ),
    ).toThrow(/written for contract ABI 0123456789abcdef; this verity speaks/)
    expect(() =>
      parseDeployment(
        bad((j) => {
          j.extra = 1
        }),
        'm.json',
      ),
    ).toThrow(/must NOT have additional properties/)
    await expect(readDeployment(join(dir, 'missing.json'))).rejects.toThrow(/does not exist/)
  })

  it('are checked against the chain: its id, and the core at the address', async () => {
    await checkDeployment(devnet.publicClient, deployment, 31337)
    await expect(checkDeployment(devnet.publicClient, deployment, 1)).rejects.toThrow(
      /manifest is for chain 31337, but the RPC serves chain 1/,
    )
    await expect(
      checkDeployment(
        devnet.publicClient,
        {
          ...deployment,
          contracts: { ...deployment.contracts, verity: devnet.accounts[1]!.address },
        },
        31337,
      ),
    ).rejects.toThrow(/no contract at 0x.* on chain 31337/)
  })

  it('resolve for a command from flags, the environment or a YAML config, flags first', async () => {
    const path = join(dir, 'from-config.json')
    writeDeployment(path, deployment)
    const config = join(dir, 'verity.yaml')
    writeFileSync(config, `rpc: ${devnet.rpcUrl}\ndeployment: from-config.json\n`)
    const fromConfig = await resolveChainTarget({ config }, { env: {} })
    expect(fromConfig).toMatchObject({ rpcUrl: devnet.rpcUrl, chainId: 31337 })
    expect(fromConfig.deployment.contracts.verity).toBe(devnet.addresses.verity)
    const other = join(dir, 'other-chain.json')
    writeDeployment(other, { ...deployment, chainId: 5 })
    await expect(
      resolveChainTarget({ config }, { env: { VERITY_DEPLOYMENT: other } }),
    ).rejects.toThrow(/manifest is for chain 5/)
    await expect(
      resolveChainTarget({ config, deployment: path }, { env: { VERITY_DEPLOYMENT: other } }),
    ).resolves.toMatchObject({ chainId: 31337 })
    writeFileSync(config, 'rpc: [1, 2]\n')
    await expect(resolveChainTarget({ config }, { env: {} })).rejects.toThrow(
      /config file .*verity.yaml: rpc must be a string/,
    )
    await expect(resolveChainTarget({}, { env: {} })).rejects.toThrow(/--rpc <url> is required/)
  })
})
