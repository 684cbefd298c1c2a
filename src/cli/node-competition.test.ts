import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex as viemToHex } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { advanceClock } from '../chain/actions/advanceClock.ts'
import { commitModel } from '../chain/actions/commitModel.ts'
import { getSubnet } from '../chain/actions/getSubnet.ts'
import { getWeights } from '../chain/actions/getWeights.ts'
import { runEpoch } from '../chain/actions/runEpoch.ts'
import { DEVNET_COMPETITION, deployModelCompetition } from '../chain/competition.ts'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { DEVNET_CORPUS_SHA256 } from '../competition/devnet-corpus.ts'
import { DEVNET_EVALUATION_SPEC, evaluationSpecHash } from '../competition/evaluate.ts'
import { WEIGHT_SCALE } from '../competition/weights.ts'
import { readNeurons } from '../node/chain.ts'
import { setupCompetitionSubnet } from '../node/competition-subnet.ts'
import { createWallet } from '../node/wallet.ts'
import { testModel } from '../runtime/test-model.ts'
import { modelCommitment } from './model-commitment.ts'
import { DEFAULT_MODEL_PATH } from './model-file.ts'

/**
 * `verity node --role model-miner` and `--role competition-validator` as operators run them, as
 * child processes from dev keyfiles: the miner serves its committed file from a node it publishes
 * on chain, the validator finds it there, downloads and scores it, and sets its weights.
 */
const dir = mkdtempSync(join(tmpdir(), 'verity-node-competition-'))
let devnet: Devnet | undefined
const children: ChildProcess[] = []
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

function node(args: string[]) {
  const child = spawn('node', ['bin/verity.js', 'node', ...args], {
    env: { ...process.env, VERITY_PASSPHRASE: 'pw' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    err += d
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const printed = (re: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out)
        if (m) resolve(m)
      }
      child.stdout!.on('data', check)
      check()
      child.once('exit', () => reject(new Error(`node exited: ${err}`)))
    })
  return { child, exited, printed }
}

describe('verity node --role model-miner | competition-validator', () => {
  it('the miner serves from a node published on chain; the validator finds it, scores it and sets weights', async () => {
    devnet = await startDevnet({ accounts: 6 })
    const competition = await deployModelCompetition(
      devnet.publicClient,
      devnet.walletClients[0]!,
      { core: devnet.addresses.verity },
    )
    // dev wallets: hotkey = account index + 1
    const key = (name: string, index: number) =>
      createWallet({
        dir,
        wallet: name,
        hotkey: 'h',
        passphrase: 'pw',
        dev: { chainId: 31337, index },
      })[1]!
    const minerKey = key('miner', 1)
    const validatorKey = key('validator', 3)
    expect(minerKey.address).toBe(devnet.accounts[2]!.address)
    const corpusSha256 = Uint8Array.from(Buffer.from(DEVNET_CORPUS_SHA256, 'hex'))
    const netuid = await setupCompetitionSubnet(devnet, {
      competition,
      model: testModel(),
      ggufSha256: new Uint8Array(32).fill(1),
      miners: [devnet.walletClients[2]!],
      validators: [devnet.walletClients[4]!],
      rules: {
        evalSpecHash: viemToHex(evaluationSpecHash(DEVNET_EVALUATION_SPEC, corpusSha256)),
        maxParams: DEVNET_COMPETITION.maxParams,
        epsilonPpm: DEVNET_COMPETITION.epsilonPpm,
        minCommitAge: DEVNET_COMPETITION.minCommitAge,
      },
    })
    const manifest = join(dir, 'deployment.json')
    writeDeployment(
      manifest,
      devnetDeployment(devnet, undefined, undefined, undefined, competition),
    )
    await commitModel(devnet.walletClients[2]!, {
      address: competition,
      netuid,
      ...modelCommitment(DEFAULT_MODEL_PATH),
    })
    const common = (k: { path: string }, name: string) => [
      '--rpc',
      devnet!.rpcUrl,
      '--deployment',
      manifest,
      '--key',
      k.path,
      '--data-dir',
      join(dir, name),
      '--netuid',
      String(netuid),
    ]
    // Refused by name before anything runs.
    const refuse = (args: string[]) =>
      spawnSync(process.execPath, ['bin/verity.js', 'node', ...args], {
        encoding: 'utf8',
        env: { ...process.env, VERITY_PASSPHRASE: 'pw' },
      })
    const noFile = refuse(['--role', 'model-miner', ...common(minerKey, 'x')])
    expect(noFile.status).toBe(2)
    expect(noFile.stderr).toMatch(/--role model-miner needs --serve-model <file\.gguf,\.\.\.>/)
    const wrongRole = refuse([
      '--role',
      'competition-validator',
      '--serve-model',
      DEFAULT_MODEL_PATH,
      ...common(validatorKey, 'y'),
    ])
    expect(wrongRole.status).toBe(2)
    expect(wrongRole.stderr).toMatch(/--serve-model goes with --role model-miner/)
    expect(wrongRole.stderr).not.toMatch(/\n\s+at /)

    const miner = node([
      '--role',
      'model-miner',
      '--serve-model',
      DEFAULT_MODEL_PATH,
      ...common(minerKey, 'miner'),
    ])
    const served = await miner.printed(/serving .* \(file root (0x[0-9a-f]{64}), (\d+) bytes\)/)
    expect(served[1]).toBe(modelCommitment(DEFAULT_MODEL_PATH).fileHash)
    await miner.printed(/model miner 0x[0-9a-fA-F]{40} on /)
    const validator = node([
      '--role',
      'competition-validator',
      ...common(validatorKey, 'validator'),
    ])
    await validator.printed(/competition validator 0x[0-9a-fA-F]{40} on /)

    const address = devnet.addresses.verity
    await runEpoch(devnet.walletClients[0]!, { address, netuid })
    const [, , , lastEpochBlock] = await getSubnet(devnet.publicClient, { address, netuid })
    // the validator waits for the seed block (the epoch's start + 8) to be mined
    await advanceClock(devnet.publicClient, {
      address,
      to: BigInt(lastEpochBlock) + 8n,
      mine: true,
    })
    const neurons = await readNeurons({ publicClient: devnet.publicClient, address, netuid })
    const uid = (hotkey: string) => neurons.find((n) => n.hotkey === hotkey)!.uid
    const row = async () => {
      const [uids, values] = await getWeights(devnet!.publicClient, {
        address,
        netuid,
        uid: uid(validatorKey.address),
      })
      return new Map(uids.map((u, k) => [u, values[k]!]))
    }
    const deadline = Date.now() + 90_000
    while ((await row()).size === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250))
    expect((await row()).get(uid(minerKey.address))).toBe(WEIGHT_SCALE)

    for (const n of [validator, miner]) {
      n.child.kill('SIGINT')
      expect(await n.exited).toBe(0)
    }
  })
})
