// Trust figures (issue "answers you can check"):
// - falseFlagsPer1000: honest answers made 32 at a time on one miner (interleaved token by token,
//   as a loaded miner runs them), each re-executed by a validator's check; any mismatch is a
//   false flag (target 0);
// - epochsToZero: in `verity devnet --epochs E --cheaters 1 --cheat-mode selective --load L`, the
//   first epoch from which the cheater's emission stays 0, at the validators' sample rate;
// - checkMsPerMinerPerEpoch: each validator's re-execution time per miner per epoch in that run.
// Usage: npm run bench:trust [-- --json] [-- --answers N] [-- --epochs E] [-- --load L]
//        [-- --epoch-seconds S] [-- --sample-rate R]

import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { LocalMiner } from '../src/gateway/local-miner.ts'
import { describeLoadedModel } from '../src/gateway/model.ts'
import { parseChatRequest } from '../src/gateway/params.ts'
import { chatRequest } from '../src/gateway/request.ts'
import { collect } from '../src/node/client.ts'
import { ChatWorkload } from '../src/node/workload.ts'
import { loadModel } from '../src/runtime/model/load.ts'
import { checkAnswer } from '../src/verify/evidence.ts'
import { promptRenderer } from '../src/verify/prompt/render.ts'
import { trainedModelBytes } from '../test/trained-model.ts'

const argv = process.argv.slice(2)
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? dflt : Number(argv[i + 1])
}
const json = argv.includes('--json')
const ANSWERS = flag('answers', 1000)
const EPOCHS = flag('epochs', 4)
const LOAD = flag('load', 8)
const EPOCH_SECONDS = flag('epoch-seconds', 15)
const SAMPLE_RATE = flag('sample-rate', 0.25)
const say = (line: string) => {
  if (!json) console.log(line)
}

// --- false flags under concurrency
const model = loadModel(trainedModelBytes())
const renderer = promptRenderer(model.metadata)
const served = describeLoadedModel(model)
const miner = new LocalMiner({
  model,
  account: privateKeyToAccount(`0x${'5a'.repeat(32)}`),
  blockNumber: () => 1,
})
const workload = new ChatWorkload(renderer, model.config.contextLength, 1234)
let next = 0
let falseFlags = 0
let tokens = 0
const t0 = performance.now()
const worker = async () => {
  for (let i = next++; i < ANSWERS; i = next++) {
    const request = chatRequest(served, parseChatRequest(workload.next('tiny') as never), {
      maxTokens: 64,
      chooseSeed: () => i,
      now: Date.now(),
    })
    const answer = await collect(miner, request)
    tokens += answer.tokens.length
    const bundle = { request, tokens: answer.tokens, receipt: answer.receipt, call: answer.call }
    if (!(await checkAnswer(model, renderer.tokenizer, bundle)).ok) falseFlags++
  }
}
await Promise.all(Array.from({ length: 32 }, worker))
const falseFlagSeconds = (performance.now() - t0) / 1000
say(
  `${ANSWERS} honest answers, 32 interleaved, ${tokens} tokens: ${falseFlags} false flags (${falseFlagSeconds.toFixed(1)} s)`,
)

// --- a selective cheater on a devnet under load
type Report = {
  miners: { cheater: boolean; emissionByEpoch: string[]; flags: number }[]
  checkedAnswers: number
  userRequests: { served: number; failed: number }
  gossip: { checkMs: number; checked: number }[]
}
const report: Report = await new Promise((resolve, reject) => {
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, '..', 'bin/verity.js'),
      'devnet',
      '--epochs',
      String(EPOCHS),
      '--epoch-seconds',
      String(EPOCH_SECONDS),
      '--cheaters',
      '1',
      '--cheat-mode',
      'selective',
      '--load',
      String(LOAD),
      '--sample-rate',
      String(SAMPLE_RATE),
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d
  })
  child.once('exit', (code) =>
    code === 0
      ? resolve(JSON.parse(out.trim().split('\n').pop()!))
      : reject(new Error(`devnet exited ${code}`)),
  )
})
const cheater = report.miners.find((m) => m.cheater)!
const byEpoch = cheater.emissionByEpoch.map(BigInt)
let epochsToZero: number | null = null
for (let e = byEpoch.length - 1; e >= 0 && byEpoch[e] === 0n; e--) epochsToZero = e + 1
const miners = report.miners.length
const checkMs = report.gossip.map((v) => v.checkMs / (miners * EPOCHS))
const checkMsPerMinerPerEpoch = checkMs.reduce((a, b) => a + b, 0) / checkMs.length
const honestFlags = report.miners.filter((m) => !m.cheater).reduce((a, m) => a + m.flags, 0)
say(
  `devnet: ${EPOCHS} epochs of ${EPOCH_SECONDS} s, load ${LOAD}, sample rate ${SAMPLE_RATE}: cheater emission by epoch ${cheater.emissionByEpoch.join(', ')}; zero from epoch ${epochsToZero}; honest flags ${honestFlags}; ${report.checkedAnswers} answers checked, ${report.userRequests.served} user requests served; re-execution ${checkMsPerMinerPerEpoch.toFixed(0)} ms per miner per epoch per validator`,
)
if (json)
  console.log(
    JSON.stringify({
      answers: ANSWERS,
      falseFlags,
      falseFlagsPer1000: (falseFlags * 1000) / ANSWERS,
      epochs: EPOCHS,
      epochSeconds: EPOCH_SECONDS,
      load: LOAD,
      sampleRate: SAMPLE_RATE,
      cheaterEmissionByEpoch: cheater.emissionByEpoch,
      epochsToZero,
      cheaterFlags: cheater.flags,
      honestFlags,
      checkedAnswers: report.checkedAnswers,
      userRequests: report.userRequests,
      checkMsPerMinerPerEpoch: Math.round(checkMsPerMinerPerEpoch),
    }),
  )
