import { readFileSync } from 'node:fs'
import { UsageError } from '../../errors/cli.ts'
import { ReceiptError } from '../../errors/node.ts'
import { verifyBundle } from '../../verify/bundle.ts'
import { parseSavedResponse } from '../../verify/response.ts'
import { parseArgs } from '../args.ts'
import type { Command } from '../main.ts'

const HELP = `usage: verity receipts submit <response> --gateway <url> [--json]

Hands an answer you got to the network's validators, so that it may be re-executed and its miner
judged on it like any other: <response> is what the API returned (a completion body, a saved
event stream, or a bare bundle). It must verify (the miner's signature over this request and these
tokens, answering a signed call); the gateway (http://host:port) checks that the miner is
registered and gossips it. Exit 0 when the gateway accepted it.`

const spec = {
  gateway: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'hand a saved answer to the validators through a gateway',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    const [sub, file, ...extra] = positionals
    if (sub !== 'submit') throw new UsageError("the only subcommand is 'submit'")
    if (!file || extra.length > 0) throw new UsageError('give exactly one response file')
    const gateway = flags.gateway as string | undefined
    if (!gateway || !/^https?:\/\/[^\s/]+\/?$/.test(gateway))
      throw new UsageError('--gateway must be the gateway URL, like http://127.0.0.1:8080')
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      throw new ReceiptError(`cannot read ${file}`, { details: (error as Error).message })
    }
    const { bundle } = parseSavedResponse(text)
    await verifyBundle(bundle)
    const url = `${gateway.replace(/\/$/, '')}/v1/verity/receipts`
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bundle),
      signal: AbortSignal.timeout(30_000),
    }).catch((error) => {
      throw new UsageError(`cannot reach the gateway at ${gateway}`, {
        details: (error as Error).message,
      })
    })
    const body = (await res.json().catch(() => ({}))) as {
      error?: { message?: string }
      requestHash?: string
    }
    if (res.status !== 202)
      throw new ReceiptError(`the gateway refused the answer (${res.status})`, {
        details: body.error?.message ?? '',
      })
    if (flags.json) console.log(JSON.stringify({ accepted: true, ...body }))
    else console.log(`accepted: the answer of ${bundle.receipt.minerHotkey} goes to the validators`)
    return 0
  },
}
