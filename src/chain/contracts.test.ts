import {
  BaseError,
  ContractFunctionRevertedError,
  createWalletClient,
  type Hex,
  http,
  keccak256,
  parseEther,
  toHex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { verityAbi, verityTokenAbi } from './abis.ts'
import { computeCommitHash } from './actions/computeCommitHash.ts'
import { runEpoch } from './actions/runEpoch.ts'
import { type Devnet, startDevnet } from './devnet.ts'
import { DEFAULT_HYPERPARAMS, type Hyperparams } from './types.ts'

type Wallet = Devnet['walletClients'][number]

let devnet: Devnet
let snapshot: Hex
let owner: Wallet
let keys: Wallet[]

const OPEN: Hyperparams = {
  ...DEFAULT_HYPERPARAMS,
  tempo: 5,
  maxUids: 8,
  maxValidators: 4,
  immunityPeriod: 0,
  weightsRateLimit: 0,
  weightsNeedPermit: false,
  minAllowedWeights: 0,
  burn: parseEther('1'),
  minBurn: 0n,
  maxBurn: parseEther('100'),
  maxRegistrationsPerBlock: 0,
  targetRegistrationsPerInterval: 0,
  adjustmentInterval: 0,
  ownerCut: 0,
}

async function rpc(method: string, params: unknown[] = []): Promise<unknown> {
  return await devnet.publicClient.request({ method, params } as never)
}

async function write(wallet: Wallet, functionName: string, args: readonly unknown[]) {
  const hash = await wallet.writeContract({
    address: devnet.addresses.verity,
    abi: verityAbi,
    functionName,
    args,
  } as Parameters<Wallet['writeContract']>[0])
  const receipt = await devnet.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 })
  expect(receipt.status).toBe('success')
  return receipt
}

async function read<T>(functionName: string, args: readonly unknown[] = []): Promise<T> {
  return (await devnet.publicClient.readContract({
    address: devnet.addresses.verity,
    abi: verityAbi,
    functionName,
    args,
  } as Parameters<typeof devnet.publicClient.readContract>[0])) as T
}

async function token(wallet: Wallet, functionName: string, args: readonly unknown[]) {
  const hash = await wallet.writeContract({
    address: devnet.addresses.token,
    abi: verityTokenAbi,
    functionName,
    args,
  } as Parameters<Wallet['writeContract']>[0])
  await devnet.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 })
}

async function balance(address: Hex): Promise<bigint> {
  return await devnet.publicClient.readContract({
    address: devnet.addresses.token,
    abi: verityTokenAbi,
    functionName: 'balanceOf',
    args: [address],
  })
}

/** Everything a failed call could have touched, to show it did not. */
async function digest(): Promise<string> {
  const totals = await read<readonly bigint[]>('totals')
  const supply = await devnet.publicClient.readContract({
    address: devnet.addresses.token,
    abi: verityTokenAbi,
    functionName: 'totalSupply',
  })
  const count = await read<number>('subnetCount')
  const subnets = []
  for (let i = 1; i <= count; i++) {
    subnets.push(await read('subnetInfo', [i]), await read('metagraph', [i]))
  }
  return JSON.stringify([totals, supply, subnets], (_, v) =>
    typeof v === 'bigint' ? v.toString() : v,
  )
}

/** Expects the call to revert with custom error `name` and to leave the state unchanged. */
async function reverts(
  wallet: Wallet,
  functionName: string,
  args: readonly unknown[],
  name: string,
  address = devnet.addresses.verity,
) {
  const before = await digest()
  let caught: unknown
  try {
    await wallet.writeContract({
      address,
      abi: address === devnet.addresses.verity ? verityAbi : verityTokenAbi,
      functionName,
      args,
    } as Parameters<Wallet['writeContract']>[0])
  } catch (error) {
    caught = error
  }
  expect(caught, `${functionName} should revert with ${name}`).toBeInstanceOf(BaseError)
  const revert = (caught as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
  expect(revert).toBeInstanceOf(ContractFunctionRevertedError)
  expect((revert as ContractFunctionRevertedError).data?.errorName).toBe(name)
  expect(await digest()).toBe(before)
}

async function subnet(params: Hyperparams = OPEN): Promise<number> {
  await write(owner, 'createSubnet', [params])
  return await read<number>('subnetCount')
}

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 2 })
  owner = devnet.walletClients[0]!
  keys = []
  for (let i = 0; i < 10; i++) {
    const account = privateKeyToAccount(keccak256(toHex(`contracts-test:${i}`)))
    await rpc('anvil_setBalance', [account.address, toHex(10n ** 22n)])
    keys.push(
      createWalletClient({ account, chain: devnet.chain, transport: http(devnet.rpcUrl) }) as never,
    )
    await token(owner, 'transfer', [account.address, parseEther('1000')])
    await token(keys[i]!, 'approve', [devnet.addresses.verity, parseEther('1000')])
  }
  await token(owner, 'approve', [devnet.addresses.verity, parseEther('1000000')])
  snapshot = (await rpc('evm_snapshot')) as Hex
})

afterAll(async () => {
  await devnet?.stop()
})

beforeEach(async () => {
  await rpc('evm_revert', [snapshot])
  snapshot = (await rpc('evm_snapshot')) as Hex
})

describe('VerityToken', () => {
  it('only the protocol mints; the minter is fixed once; burns are counted', async () => {
    await reverts(owner, 'mint', [owner.account.address, 1n], 'NotMinter', devnet.addresses.token)
    await reverts(
      owner,
      'setMinter',
      [owner.account.address],
      'MinterAlreadySet',
      devnet.addresses.token,
    )
    const t = devnet.addresses.token
    const get = (functionName: 'totalMinted' | 'totalBurned' | 'blockEmission') =>
      devnet.publicClient.readContract({ address: t, abi: verityTokenAbi, functionName })
    expect(await get('totalMinted')).toBe(parseEther('1000000'))
    expect(await get('blockEmission')).toBe(parseEther('1'))
    await token(owner, 'burn', [5n])
    expect(await get('totalBurned')).toBe(5n)
  })
})

describe('subnets and models', () => {
  it('creates subnets, validates hyperparameters and owner-only updates', async () => {
    const netuid = await subnet()
    expect(netuid).toBe(1)
    const hp = await read<Hyperparams>('hyperparams', [netuid])
    expect(hp.tempo).toBe(5)
    await reverts(owner, 'createSubnet', [{ ...OPEN, tempo: 0 }], 'InvalidHyperparameter')
    await reverts(owner, 'createSubnet', [{ ...OPEN, maxUids: 513 }], 'InvalidHyperparameter')
    await reverts(owner, 'createSubnet', [{ ...OPEN, alphaLow: 100 }], 'InvalidHyperparameter')
    await reverts(keys[0]!, 'setHyperparams', [netuid, OPEN], 'NotSubnetOwner')
    await reverts(owner, 'setHyperparams', [9, OPEN], 'SubnetNotFound')
    await write(owner, 'setHyperparams', [netuid, { ...OPEN, tempo: 7 }])
    expect((await read<Hyperparams>('hyperparams', [netuid])).tempo).toBe(7)
    await reverts(owner, 'fundEmission', [netuid, 0n], 'ZeroAmount')
    await reverts(keys[0]!, 'setSubnetEmissionShare', [netuid, 100], 'OwnableUnauthorizedAccount')
  })

  it('registers models; a subnet names its model', async () => {
    const netuid = await subnet()
    const root = keccak256(toHex('model'))
    await reverts(owner, 'setSubnetModel', [netuid, root], 'ModelNotFound')
    await write(keys[0]!, 'registerModel', [root, 'tiny', keccak256(toHex('gguf'))])
    await reverts(owner, 'registerModel', [root, 'again', keccak256(toHex('x'))], 'ModelExists')
    const model = await read<readonly [string, Hex, Hex]>('model', [root])
    expect(model[0]).toBe('tiny')
    await reverts(keys[1]!, 'setSubnetModel', [netuid, root], 'NotSubnetOwner')
    await write(owner, 'setSubnetModel', [netuid, root])
    expect((await read<readonly unknown[]>('subnetInfo', [netuid]))[2]).toBe(root)
  })
})

describe('registration', () => {
  it('burns the price, assigns uids, rejects duplicates and a low maxBurn', async () => {
    const netuid = await subnet()
    const before = await balance(keys[0]!.account.address)
    await write(keys[0]!, 'register', [netuid, parseEther('1')])
    expect(await balance(keys[0]!.account.address)).toBe(before - parseEther('1'))
    expect(await read('uidOf', [netuid, keys[0]!.account.address])).toBe(0)
    await reverts(keys[0]!, 'register', [netuid, parseEther('1')], 'AlreadyRegistered')
    await reverts(keys[1]!, 'register', [netuid, 1n], 'BurnTooHigh')
    await reverts(keys[1]!, 'register', [99, parseEther('1')], 'SubnetNotFound')
    await reverts(owner, 'uidOf', [netuid, keys[5]!.account.address], 'NotRegistered')
  })

  it('caps registrations per interval and adjusts the burn', async () => {
    const netuid = await subnet({
      ...OPEN,
      targetRegistrationsPerInterval: 1,
      adjustmentInterval: 100,
      adjustmentAlpha: 0n,
    })
    for (let i = 0; i < 3; i++) await write(keys[i]!, 'register', [netuid, parseEther('100')])
    await reverts(keys[3]!, 'register', [netuid, parseEther('100')], 'RegistrationLimit')
    await rpc('anvil_mine', [toHex(100)])
    // 3 registrations against a target of 1: the price doubles (alpha 0: (3+1)/2)
    expect(await read('burnPrice', [netuid])).toBe(parseEther('2'))
  })

  it('replaces the lowest-emission non-immune uid when full; immune uids are kept', async () => {
    const netuid = await subnet({ ...OPEN, maxUids: 2, immunityPeriod: 1000 })
    await write(keys[0]!, 'register', [netuid, parseEther('1')])
    await write(keys[1]!, 'register', [netuid, parseEther('1')])
    await reverts(keys[2]!, 'register', [netuid, parseEther('1')], 'NoNeuronAvailable')
    await write(owner, 'setHyperparams', [netuid, { ...OPEN, maxUids: 2, immunityPeriod: 0 }])
    await write(keys[2]!, 'register', [netuid, parseEther('1')])
    // both had emission 0: the earlier registration (uid 0) goes
    expect(await read('uidOf', [netuid, keys[2]!.account.address])).toBe(0)
    await reverts(owner, 'uidOf', [netuid, keys[0]!.account.address], 'NotRegistered')
  })

  it('a replaced uid loses its validator permit: the next epoch has no row for it', async () => {
    const netuid = await subnet({ ...OPEN, tempo: 1, maxUids: 2 })
    await write(keys[0]!, 'register', [netuid, parseEther('1')])
    await write(keys[1]!, 'register', [netuid, parseEther('1')])
    await write(keys[2]!, 'stake', [keys[0]!.account.address, parseEther('5')])
    await write(keys[2]!, 'stake', [keys[1]!.account.address, parseEther('3')])
    await runEpoch(owner, { address: devnet.addresses.verity, netuid })
    type Neuron = { validatorPermit: boolean }
    expect((await read<Neuron>('neuron', [netuid, 0])).validatorPermit).toBe(true)
    expect((await read<Neuron>('neuron', [netuid, 1])).validatorPermit).toBe(true)
    await write(keys[3]!, 'register', [netuid, parseEther('1')])
    const uid = await read<number>('uidOf', [netuid, keys[3]!.account.address])
    expect((await read<Neuron>('neuron', [netuid, uid])).validatorPermit).toBe(false)
    await write(owner, 'epochBegin', [netuid])
    const [stage, , n, rows] = await read<readonly [number, number, number, number]>('epochStage', [
      netuid,
    ])
    expect([stage, n, rows]).toEqual([1, 2, 1])
  })

  it('publishes a node for a registered hotkey', async () => {
    const netuid = await subnet()
    await reverts(
      keys[0]!,
      'serveNode',
      [netuid, '0x1220', ['/ip4/127.0.0.1/tcp/1']],
      'NotRegistered',
    )
    await write(keys[0]!, 'register', [netuid, parseEther('1')])
    await write(keys[0]!, 'serveNode', [netuid, '0x1220aa', ['/ip4/127.0.0.1/tcp/4001']])
    const info = await read<readonly [Hex, readonly string[], bigint]>('node', [
      netuid,
      keys[0]!.account.address,
    ])
    expect(info[0]).toBe('0x1220aa')
    expect(info[1]).toEqual(['/ip4/127.0.0.1/tcp/4001'])
  })
})

describe('staking and slashing', () => {
  it('stakes, unstakes after the cooldown, withdraws', async () => {
    const hot = keys[0]!.account.address
    const cold = keys[1]!
    await reverts(cold, 'stake', [hot, 0n], 'ZeroAmount')
    await write(cold, 'stake', [hot, parseEther('10')])
    expect(await read('stakeOf', [hot])).toBe(parseEther('10'))
    await reverts(cold, 'unstake', [hot, parseEther('11')], 'InsufficientStake')
    await write(cold, 'unstake', [hot, parseEther('4')])
    await reverts(cold, 'withdraw', [cold.account.address], 'StillLocked')
    await reverts(keys[2]!, 'withdraw', [cold.account.address], 'NothingToWithdraw')
    await rpc('anvil_mine', [toHex(10)])
    const before = await balance(cold.account.address)
    await write(cold, 'withdraw', [cold.account.address])
    expect(await balance(cold.account.address)).toBe(before + parseEther('4'))
    expect(await read('stakeOf', [hot])).toBe(parseEther('6'))
  })

  it('slashes to a named recipient, exactly, pro rata across coldkeys', async () => {
    const hot = keys[0]!.account.address
    await write(keys[1]!, 'stake', [hot, parseEther('30')])
    await write(keys[2]!, 'stake', [hot, parseEther('10')])
    await reverts(keys[3]!, 'slash', [hot, 1n, keys[3]!.account.address], 'NotSlasher')
    await reverts(
      keys[3]!,
      'setSlasher',
      [keys[3]!.account.address, true],
      'OwnableUnauthorizedAccount',
    )
    await write(owner, 'setSlasher', [keys[3]!.account.address, true])
    await reverts(
      keys[3]!,
      'slash',
      [hot, parseEther('41'), keys[4]!.account.address],
      'InsufficientStake',
    )
    await reverts(
      keys[3]!,
      'slash',
      [hot, 1n, '0x0000000000000000000000000000000000000000'],
      'ZeroAddress',
    )
    const before = await balance(keys[4]!.account.address)
    const amount = parseEther('10') + 7n
    await write(keys[3]!, 'slash', [hot, amount, keys[4]!.account.address])
    expect(await balance(keys[4]!.account.address)).toBe(before + amount)
    expect(await read('stakeOf', [hot])).toBe(parseEther('40') - amount)
    const a = await read<bigint>('stakeOfColdkey', [hot, keys[1]!.account.address])
    const b = await read<bigint>('stakeOfColdkey', [hot, keys[2]!.account.address])
    expect(a + b).toBeLessThanOrEqual(parseEther('40') - amount)
    expect(a / 3n - b).toBeLessThan(10n)
  })
})

describe('weights', () => {
  async function net(params: Partial<Hyperparams> = {}) {
    const netuid = await subnet({ ...OPEN, ...params })
    for (let i = 0; i < 4; i++) await write(keys[i]!, 'register', [netuid, parseEther('100')])
    return netuid
  }

  it("stores max-upscaled rows with explicit zeros and runs subtensor's checks", async () => {
    const netuid = await net({ minAllowedWeights: 2, maxWeightLimit: 40000, weightsVersionKey: 3n })
    const k = keys[0]!
    await reverts(k, 'setWeights', [netuid, [1, 2], [1], 3n], 'LengthMismatch')
    await reverts(k, 'setWeights', [netuid, [0, 1, 2, 3, 0], [1, 1, 1, 1, 1], 3n], 'TooManyWeights')
    await reverts(keys[6]!, 'setWeights', [netuid, [1, 2], [1, 1], 3n], 'NotRegistered')
    await reverts(k, 'setWeights', [netuid, [1, 2], [1, 1], 2n], 'IncorrectVersionKey')
    await reverts(k, 'setWeights', [netuid, [1, 1], [1, 1], 3n], 'DuplicateUid')
    await reverts(k, 'setWeights', [netuid, [1, 9], [1, 1], 3n], 'UidOutOfRange')
    await reverts(k, 'setWeights', [netuid, [1], [1], 3n], 'TooFewWeights')
    await reverts(k, 'setWeights', [netuid, [1, 2], [60000, 1], 3n], 'MaxWeightExceeded')
    await write(k, 'setWeights', [netuid, [1, 2, 3], [100, 0, 90], 3n])
    const [uids, values] = await read<readonly [readonly number[], readonly number[]]>(
      'weightsOf',
      [netuid, 0],
    )
    expect(uids).toEqual([1, 2, 3])
    expect(values).toEqual([65535, 0, 58982])
    // a self-weight alone passes the minimum
    await write(keys[1]!, 'setWeights', [netuid, [1], [5], 3n])
  })

  it('enforces the rate limit, the stake threshold and validator permits', async () => {
    const netuid = await net({ weightsRateLimit: 50, stakeThreshold: 10n, weightsNeedPermit: true })
    await reverts(keys[0]!, 'setWeights', [netuid, [1], [1], 0n], 'StakeBelowThreshold')
    await write(owner, 'stake', [keys[0]!.account.address, 100n])
    await reverts(keys[0]!, 'setWeights', [netuid, [1], [1], 0n], 'SettingWeightsTooFast')
    await rpc('anvil_mine', [toHex(50)])
    await reverts(keys[0]!, 'setWeights', [netuid, [1], [1], 0n], 'NoValidatorPermit')
    await write(keys[0]!, 'setWeights', [netuid, [0], [1], 0n])
  })

  it('commit-reveal: commit, reveal in the reveal epoch, reject early, late and mismatched', async () => {
    const netuid = await net({ commitReveal: true, tempo: 1 })
    const k = keys[0]!
    await reverts(k, 'setWeights', [netuid, [1], [1], 0n], 'CommitRevealEnabled')
    const salt = keccak256(toHex('salt'))
    const args = {
      hotkey: k.account.address,
      netuid,
      uids: [1, 2],
      values: [10, 20],
      salt,
      versionKey: 0n,
    }
    await write(k, 'commitWeights', [netuid, computeCommitHash(args)])
    await reverts(k, 'revealWeights', [netuid, [1, 2], [10, 20], salt, 0n], 'RevealTooEarly')
    await runEpoch(owner, { address: devnet.addresses.verity, netuid })
    await reverts(k, 'revealWeights', [netuid, [1, 2], [10, 21], salt, 0n], 'CommitNotFound')
    await write(k, 'revealWeights', [netuid, [1, 2], [10, 20], salt, 0n])
    const [, values] = await read<readonly [readonly number[], readonly number[]]>('weightsOf', [
      netuid,
      0,
    ])
    expect(values).toEqual([32768, 65535])
    await write(k, 'commitWeights', [netuid, computeCommitHash({ ...args, values: [1, 1] })])
    await runEpoch(owner, { address: devnet.addresses.verity, netuid })
    await runEpoch(owner, { address: devnet.addresses.verity, netuid })
    await reverts(k, 'revealWeights', [netuid, [1, 2], [1, 1], salt, 0n], 'RevealExpired')
    for (let i = 0; i < 10; i++) {
      await write(k, 'commitWeights', [netuid, keccak256(toHex(i))])
    }
    await reverts(k, 'commitWeights', [netuid, keccak256(toHex('x'))], 'TooManyCommits')
    const plain = await net()
    await reverts(k, 'commitWeights', [plain, keccak256(toHex('x'))], 'CommitRevealDisabled')
  })
})

describe('epoch and emissions', () => {
  it('runs an epoch over several transactions, credits emission, and claims', async () => {
    const netuid = await subnet({ ...OPEN, tempo: 100, yuma3: true, liquidAlpha: true })
    for (let i = 0; i < 4; i++) await write(keys[i]!, 'register', [netuid, parseEther('100')])
    for (let i = 0; i < 2; i++)
      await write(owner, 'stake', [keys[i]!.account.address, parseEther(String(10 * (i + 1)))])
    for (let i = 0; i < 2; i++)
      await write(keys[i]!, 'setWeights', [netuid, [2, 3], [100, 50 + i * 40], 0n])
    await write(owner, 'fundEmission', [netuid, parseEther('3')])
    await reverts(keys[5]!, 'epochBegin', [netuid], 'EpochNotDue')
    await reverts(owner, 'epochConsensus', [netuid, [0n]], 'WrongEpochStage')
    await runEpoch(owner, { address: devnet.addresses.verity, netuid })
    await write(owner, 'fundEmission', [netuid, parseEther('3')])
    await write(owner, 'epochBegin', [netuid])
    await reverts(keys[0]!, 'setWeights', [netuid, [2], [1], 0n], 'EpochInProgress')
    await reverts(owner, 'epochConsensus', [netuid, [1n, 0n, 0n, 0n]], 'ConsensusMismatch')
    await reverts(owner, 'epochConsensus', [netuid, [0n, 0n, 0n, 0n, 0n]], 'BadChunk')
    const hints = await read<readonly bigint[]>('consensusHints', [netuid, 0, 4])
    await write(owner, 'epochConsensus', [netuid, hints])
    await reverts(owner, 'epochBonds', [netuid, 0], 'BadChunk')
    await write(owner, 'epochBonds', [netuid, 16])
    await write(owner, 'epochFinish', [netuid, 16])
    const meta = await read<readonly { incentive: number; dividends: number; emission: bigint }[]>(
      'metagraph',
      [netuid],
    )
    expect(meta[2]!.incentive + meta[3]!.incentive).toBeGreaterThan(65000)
    expect(meta[1]!.dividends).toBeGreaterThan(0)
    const claim = await read<bigint>('claimable', [keys[2]!.account.address])
    expect(claim).toBeGreaterThan(0n)
    const before = await balance(keys[2]!.account.address)
    await write(keys[2]!, 'claim', [keys[2]!.account.address])
    expect(await balance(keys[2]!.account.address)).toBe(before + claim)
    await reverts(keys[2]!, 'claim', [keys[2]!.account.address], 'NothingToClaim')
    const bonds = await read<readonly number[]>('bondsOf', [netuid, 1])
    expect(bonds[2]).toBeGreaterThan(0)
    await write(owner, 'setHyperparams', [
      netuid,
      { ...OPEN, tempo: 100, yuma3: true, bondsResetOn: true },
    ])
    await write(keys[2]!, 'resetBonds', [netuid])
    expect((await read<readonly number[]>('bondsOf', [netuid, 1]))[2]).toBe(0)
  })

  it('keeps what a uid earned for its hotkey: across subnets, and when the uid is replaced', async () => {
    const a = await subnet({ ...OPEN, tempo: 1, maxUids: 2 })
    const b = await subnet({ ...OPEN, tempo: 1, maxUids: 2 })
    const miner = keys[1]!.account.address
    for (const netuid of [a, b]) {
      await write(keys[0]!, 'register', [netuid, parseEther('1')])
      await write(keys[1]!, 'register', [netuid, parseEther('1')])
    }
    await write(owner, 'stake', [keys[0]!.account.address, parseEther('10')])
    for (const netuid of [a, b]) {
      await write(keys[0]!, 'setWeights', [netuid, [1], [1000], 0n])
      // the first epoch gives the validator its permit, the second uses its weights
      for (let e = 0; e < 2; e++) {
        await write(owner, 'fundEmission', [netuid, parseEther('2')])
        await runEpoch(owner, { address: devnet.addresses.verity, netuid })
      }
    }
    type Info = { unclaimed: bigint; emission: bigint }
    const ua = (await read<Info>('neuron', [a, 1])).unclaimed
    const ub = (await read<Info>('neuron', [b, 1])).unclaimed
    expect(ua).toBeGreaterThan(0n)
    expect(ub).toBeGreaterThan(0n)
    expect(await read<bigint>('claimable', [miner])).toBe(ua + ub)
    // subnet a is full: a new hotkey replaces the uid with the lower emission
    await write(keys[2]!, 'register', [a, parseEther('1')])
    const replaced = await read<number>('uidOf', [a, keys[2]!.account.address])
    const gone = replaced === 1 ? miner : keys[0]!.account.address
    // whoever lost the uid keeps what it earned there
    expect(await read<bigint>('claimable', [gone])).toBeGreaterThan(0n)
    expect((await read<Info>('neuron', [a, replaced])).unclaimed).toBe(0n)
    const total = await read<bigint>('claimable', [miner])
    expect(total).toBe(ua + ub)
    const before = await balance(miner)
    await write(keys[1]!, 'claim', [miner])
    expect(await balance(miner)).toBe(before + total)
    expect(await read<bigint>('claimable', [miner])).toBe(0n)
    expect((await read<Info>('neuron', [b, 1])).unclaimed).toBe(0n)
    await reverts(keys[1]!, 'claim', [miner], 'NothingToClaim')
  })

  it('accrues the halving emission for a subnet with a share, with the owner cut', async () => {
    const netuid = await subnet({ ...OPEN, ownerCut: 65535 / 5 })
    await write(owner, 'setSubnetEmissionShare', [netuid, 10_000])
    await rpc('anvil_mine', [toHex(9)])
    await write(owner, 'epochBegin', [netuid])
    const pending = (await read<readonly bigint[]>('subnetInfo', [netuid]))[5]!
    const cut = await read<bigint>('claimable', [owner.account.address])
    expect(pending + cut).toBe(parseEther('10'))
    expect(cut).toBe((parseEther('10') * 13107n) / 65535n)
  })
})
