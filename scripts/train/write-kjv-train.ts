/**
 * Writes the KJV training split of verity-tiny (every verse but the held-out ones, i % 20 !== 19;
 * scripts/kjv-corpus.ts), one verse per line, in canonical order: the --data of the fine-tune that
 * makes models/verity-tiny-ft.gguf. Needs the corpus (`bash scripts/install-corpus.sh`); the file
 * (4 MB) is not committed.
 *
 *   node bin/run-ts.js scripts/train/write-kjv-train.ts /tmp/kjv-train.txt
 */
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { kjvVerses, splitVerses } from '../kjv-corpus.ts'

const path = process.argv[2]
if (!path) {
  console.error('usage: write-kjv-train <out.txt>')
  process.exit(2)
}
const { train } = splitVerses(kjvVerses())
const text = `${train.join('\n')}\n`
writeFileSync(path, text)
console.log(
  `${path}: ${train.length} verses, ${text.length} bytes, sha256 ${createHash('sha256').update(text).digest('hex')}`,
)
