import { advanceClock } from '../chain/actions/advanceClock.ts'
import { getEpochInfo } from '../chain/actions/getEpochInfo.ts'
import { runEpoch } from '../chain/actions/runEpoch.ts'
import type { Devnet } from '../chain/devnet.ts'
import { EpochError } from '../errors/chain.ts'
import { readNeurons } from '../node/chain.ts'

/**
 * The epochs of a devnet's extra subnet (the competition's, the vision one's): runs each one when
 * it is due and keeps every hotkey's emission per epoch for the JSON line.
 */
export class DevnetSubnetEpochs {
  readonly #emission = new Map<string, string[]>()
  constructor(
    private readonly devnet: Devnet,
    private readonly netuid: number,
  ) {}

  /** The subnet's neurons as the chain has them now. */
  async neurons() {
    return await readNeurons({
      publicClient: this.devnet.publicClient,
      address: this.devnet.addresses.verity,
      netuid: this.netuid,
    })
  }

  /** Mines to the epoch's due block and runs it. */
  async run(): Promise<void> {
    const address = this.devnet.addresses.verity
    const [due] = await getEpochInfo(this.devnet.publicClient, { address, netuid: this.netuid })
    await advanceClock(this.devnet.publicClient, { address, to: due, mine: true })
    // Other nodes' transactions can change what a stage estimated: runEpoch resumes.
    for (let attempt = 1; ; attempt++) {
      try {
        await runEpoch(this.devnet.walletClients[0]!, { address, netuid: this.netuid })
        return
      } catch (error) {
        if (attempt >= 3 || !(error instanceof EpochError)) throw error
      }
    }
  }

  /** Records what each hotkey was paid in the epoch just run. */
  async record(): Promise<void> {
    for (const n of await this.neurons()) {
      const key = n.hotkey.toLowerCase()
      this.#emission.set(key, [...(this.#emission.get(key) ?? []), n.emission.toString()])
    }
  }

  /** A hotkey's emission in each epoch run so far (decimal strings). */
  emissionByEpoch(hotkey: string): string[] {
    return this.#emission.get(hotkey.toLowerCase()) ?? []
  }
}
