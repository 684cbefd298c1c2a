import {
  ContractFunctionRevertedError,
  formatEther,
  HttpRequestError,
  InsufficientFundsError,
  TimeoutError,
  BaseError as ViemBaseError,
} from 'viem'
import { ChainError } from '../errors/chain.ts'

/** Reverts a user causes, in words; the rest are named as the contract names them. */
const REVERT_TEXT: Record<string, (args: readonly unknown[]) => string> = {
  SubnetNotFound: ([netuid]) => `no subnet ${netuid} on this chain (verity subnet list)`,
  SubnetIsDissolved: ([netuid]) => `subnet ${netuid} is dissolved`,
  NotRegistered: ([netuid, hotkey]) =>
    `hotkey ${hotkey} is not registered on subnet ${netuid} (verity subnet register)`,
  AlreadyRegistered: ([netuid, hotkey]) =>
    `hotkey ${hotkey} is already registered on subnet ${netuid}`,
  ERC20InsufficientBalance: ([who, balance, needed]) =>
    `insufficient VTY balance: ${who} holds ${formatEther(balance as bigint)} VTY, needs ${formatEther(needed as bigint)} VTY`,
  InsufficientStake: () => 'insufficient stake: the coldkey has less stake on that hotkey',
  NothingToWithdraw: () => 'nothing to withdraw yet (verity stake list shows when stake unlocks)',
  StillLocked: () => 'the stake is still locked (verity stake list shows when it unlocks)',
  RevealTooEarly: ([current, at]) =>
    `the reveal window is not open yet: the subnet is in epoch ${current}, the commit reveals in epoch ${at}`,
  RevealExpired: ([current, at]) =>
    `the reveal window has closed: the commit had to be revealed in epoch ${at}, the subnet is in epoch ${current}`,
  CommitNotFound: () =>
    'no such commit on chain: the salts file does not match a commit of this hotkey',
  CommitRevealDisabled: ([netuid]) =>
    `subnet ${netuid} does not use commit-reveal: set weights directly`,
  AlreadyCommitted: ([netuid, uid, epoch]) =>
    `uid ${uid} already committed weights on subnet ${netuid} in epoch ${epoch}`,
  SettingWeightsTooFast: () => 'weights were set too recently (the subnet weightsRateLimit)',
  NoValidatorPermit: () => 'this hotkey has no validator permit on the subnet',
  BurnTooHigh: () => 'the registration burn is above --max-burn',
  NotSubnetOwner: () => 'only the subnet owner may do that',
  ModelNotFound: ([root]) =>
    `model ${root} is not in the model registry (register it: verity subnet set-model --model <file.gguf> --register)`,
  ModelExists: ([root]) => `model ${root} is already registered`,
  ChangeNotReady: () => 'the governance change is not ready yet (its delay has not passed)',
  ZeroAmount: () => 'the amount must be more than 0',
  NotCompetition: ([netuid]) => `subnet ${netuid} is not a model competition`,
  ParamsOverLimit: ([params, max]) =>
    `the model has ${params} parameters; the competition allows at most ${max}`,
  SameModel: ([netuid, hotkey]) =>
    `hotkey ${hotkey} already committed this model on subnet ${netuid} (committing it again would only lose its block)`,
}

/**
 * A chain failure as one line: a revert by its custom error (in words where a user caused it),
 * missing gas money, an unreachable RPC. Other errors pass through unchanged.
 */
export function explainChainError(error: unknown): unknown {
  if (!(error instanceof ViemBaseError)) return error
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (revert instanceof ContractFunctionRevertedError && revert.data) {
    const { errorName, args = [] } = revert.data
    const text = REVERT_TEXT[errorName]
    return new ChainError(
      text ? text(args) : `the contract refused: ${errorName}(${args.map(String).join(', ')})`,
      { cause: error },
    )
  }
  if (error.walk((e) => e instanceof InsufficientFundsError))
    return new ChainError('insufficient ETH to pay for gas', { cause: error })
  if (error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError))
    return new ChainError('the chain did not answer (RPC unreachable or timed out)', {
      cause: error,
    })
  return new ChainError(error.shortMessage.split('\n')[0] ?? 'chain call failed', {
    cause: error,
  })
}
