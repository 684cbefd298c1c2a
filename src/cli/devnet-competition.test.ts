import { describe, expect, it } from 'vitest'
import { TRAINED_MODEL_PATH } from '../../test/trained-model.ts'
import { expectCleanError, runVerity } from '../../test/verity-cli.ts'
import { UsageError } from '../errors/cli.ts'
import { competitionModelPaths, FINE_TUNED_MODEL_PATH } from './devnet-competition.ts'

/**
 * `verity devnet --competition`'s flags, refused before anything starts (the whole run is
 * test/competition.e2e.test.ts): a missing model file names the file and the flag to pass.
 */
describe('verity devnet --competition flags', () => {
  it('default to the default model and the fine-tuned one, and name a missing file', () => {
    expect(competitionModelPaths({ betterModel: TRAINED_MODEL_PATH }).base).toMatch(
      /models\/verity-tiny\.gguf$/,
    )
    expect(FINE_TUNED_MODEL_PATH).toMatch(/models\/verity-tiny-ft\.gguf$/)
    expect(() => competitionModelPaths({ betterModel: '/nonexistent/better.gguf' })).toThrow(
      /\/nonexistent\/better\.gguf is missing: .*--better-model <file\.gguf>/,
    )
    expect(() =>
      competitionModelPaths({ baseModel: '/nonexistent/b.gguf', betterModel: TRAINED_MODEL_PATH }),
    ).toThrow(UsageError)
  })

  it('refuses model flags without --competition, and a missing file with it, as one line', async () => {
    expectCleanError(
      await runVerity(['devnet', '--better-model', TRAINED_MODEL_PATH]),
      2,
      /--base-model and --better-model go with --competition/,
    )
    expectCleanError(
      await runVerity(['devnet', '--competition', '--better-model', '/nonexistent/ft.gguf']),
      2,
      /\/nonexistent\/ft\.gguf is missing/,
    )
  })
})
