import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CompetitionError } from '../errors/competition.ts'

/**
 * The devnet's evaluation corpus: the KJV verses held out of verity-tiny's training (verse i of
 * the 31,102 with i % 20 === 19; scripts/kjv-corpus.ts splits, scripts/write-eval-corpus.ts writes
 * the file). Training never reads this file, and the evaluation reads nothing else.
 */
export const DEVNET_CORPUS_PATH = join(import.meta.dirname, '../../data/kjv-held-out.txt')
export const DEVNET_CORPUS_SHA256 =
  '52900db6a3122d6111ff8ba21ec70c1b8d584ff45389190a3ba3d0f785f26eb5'
export const DEVNET_CORPUS_VERSES = 1555

/** The corpus as verses, checked against its pinned sha256 (a changed file is an error). */
export function devnetCorpus(path = DEVNET_CORPUS_PATH): string[] {
  let text: Buffer
  try {
    text = readFileSync(path)
  } catch (cause) {
    throw new CompetitionError('corpus', `cannot read ${path}`, { cause })
  }
  const digest = createHash('sha256').update(text).digest('hex')
  if (digest !== DEVNET_CORPUS_SHA256)
    throw new CompetitionError(
      'corpus',
      `${path} has sha256 ${digest}, not the devnet corpus ${DEVNET_CORPUS_SHA256} (truncated or edited?)`,
    )
  const verses = text.toString('utf8').split('\n')
  verses.pop()
  return verses
}
