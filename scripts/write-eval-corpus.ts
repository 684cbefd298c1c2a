/**
 * Writes data/kjv-held-out.txt, the evaluation corpus of model competition subnets on the devnet
 * (docs/DETERMINISM.md, "evaluation loss"): the KJV verses that verity-tiny never trained on (verse
 * i with i % 20 === 19, scripts/kjv-corpus.ts), one per line, in canonical order. Needs the corpus
 * installed (`bash scripts/install-corpus.sh`); the file is committed so that nothing else does.
 *
 *   node bin/run-ts.js scripts/write-eval-corpus.ts
 */
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { kjvVerses, splitVerses } from './kjv-corpus.ts'

const { heldOut } = splitVerses(kjvVerses())
const text = `${heldOut.join('\n')}\n`
const path = join(import.meta.dirname, '../data/kjv-held-out.txt')
writeFileSync(path, text)
console.log(
  `${path}: ${heldOut.length} verses, ${text.length} bytes, sha256 ${createHash('sha256').update(text).digest('hex')}`,
)
