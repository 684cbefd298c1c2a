import { readFileSync } from 'node:fs'
import { UsageError } from '../../errors/cli.ts'
import { ReceiptError } from '../../errors/node.ts'
import { loadModel } from '../../runtime/model/load.ts'
import { tokenizerFromGguf } from '../../runtime/tokenizer/index.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import { parseReceiptBundle } from '../../verify/bundle.ts'
import { verifyReceipt } from '../../verify/receipt.ts'
import { reexecuteReceipt } from '../../verify/reexecute.ts'
import { parseArgs } from '../args.ts'
import type { Command } from '../main.ts'
import { readModelFile } from '../model-file.ts'

const HELP = `usage: verity verify <receipt.json> [--reexecute] [--model <file.gguf|default>] [--json]

Checks a receipt file: {"request": ..., "receipt": ..., "tokens"?: [...]} (or an API response
with that object under "verity"). Exit 0 only if the signature recovers to minerHotkey and the
receipt commits to the request (and the tokens, when present). With --reexecute the local runtime
runs the request and must reproduce outputHash, traceRoot and the trace length bit for bit.`

const spec = {
  reexecute: { type: 'boolean' },
  model: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'check a receipt (signature; with --reexecute, bit-for-bit re-execution)',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one receipt file')
    const file = positionals[0]!
    let json: unknown
    try {
      json = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new ReceiptError(`cannot read ${file} as JSON`, { details: (error as Error).message })
    }
    const bundle = parseReceiptBundle(json)
    const { receipt, request } = bundle
    await verifyReceipt(receipt, { request, ...(bundle.tokens ? { tokens: bundle.tokens } : {}) })
    const lines = [`signature ok: signed by miner ${receipt.minerHotkey}`]
    let reexecuted: boolean | undefined
    if (flags.reexecute) {
      const model = loadModel(readModelFile(flags.model as string | undefined))
      if (toHex(model.modelRoot) !== receipt.modelRoot.toLowerCase())
        throw new ReceiptError('cannot re-execute: the local model is not the receipt model', {
          details: `receipt modelRoot ${receipt.modelRoot}, local ${toHex(model.modelRoot)} (pass --model)`,
        })
      const result = reexecuteReceipt(model, tokenizerFromGguf(model.metadata), request, receipt)
      if (!result.ok) {
        if (flags.json)
          console.log(JSON.stringify({ ok: false, signature: true, mismatches: result.mismatches }))
        for (const m of result.mismatches) console.error(`error: re-execution mismatch: ${m}`)
        return 1
      }
      reexecuted = true
      lines.push(
        `re-execution ok: outputHash, traceRoot and its ${receipt.traceLeaves} checkpoints reproduced`,
      )
    }
    if (flags.json)
      console.log(
        JSON.stringify({ ok: true, signature: true, ...(reexecuted ? { reexecuted } : {}) }),
      )
    else for (const l of lines) console.log(l)
    return 0
  },
}
