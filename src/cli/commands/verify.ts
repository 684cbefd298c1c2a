import { readFileSync } from 'node:fs'
import { UsageError } from '../../errors/cli.ts'
import { ReceiptError } from '../../errors/node.ts'
import { checkSentBody } from '../../gateway/sent.ts'
import { checkLeaseReceipt } from '../../market/verify-lease.ts'
import { loadModel } from '../../runtime/model/load.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import { promptRenderer } from '../../verify/prompt/render.ts'
import { reexecuteReceipt } from '../../verify/reexecute.ts'
import { checkRegistration } from '../../verify/registration.ts'
import {
  checkChoices,
  checkSavedResponse,
  checkShownLogprobs,
  type Mismatch,
  parseSavedResponses,
} from '../../verify/response.ts'
import { parseArgs } from '../args.ts'
import { openChain } from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP, chainSources } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { readModelFile } from '../model-file.ts'
import { savedVisionResponse, verifyVisionCommand } from '../verify-vision.ts'

const HELP = `usage: verity verify <response> [--request <sent.json>] [--reexecute] [--model <file.gguf|default>]
                     [--rpc <url> --deployment <manifest> [--lease <id>]] [--json]
       verity verify <vision-response> [--onchain --rpc <url> --deployment <manifest>] [--json]

Checks an answer alone, trusting neither the gateway nor the miner. <response> is what the API
returned: a chat or text completion body, a saved event stream (the 'data:' lines), or a bare
bundle {request, tokens, receipt, call}. Every check names the field at fault:
- the miner's EIP-712 signature, the request and output hashes, and the caller's signed call
  whose nonce the receipt carries;
- the prompt tokens are exactly the model's chat template and tokenizer (named by modelRoot)
  applied to the messages the request carries, and the stop tokens are the model's;
- the text shown is exactly the decoding of the signed tokens (cut at a stop string), a stream's
  chunks name exactly those tokens, and the finish reason follows from them;
- --request <sent.json>: the body you sent; the messages, sampling parameters, length, seed
  and stop strings the miner ran must be yours;
- --rpc <url> --deployment <manifest>: the signer held a uid on the subnet serving that modelRoot
  at the receipt's issuedBlock, on the Verity contract the manifest names (the one you trust).
  Without a chain, registration is not checked, and the output says so. An answer from a leased
  deployment on the compute market (receipt netuid 0) is checked against --lease <id> instead:
  the lease ran at issuedBlock, its published spec serves that model, and its provider signed
  that the receipt's signer is the lease's key;
- --reexecute: the local runtime re-runs the request and must reproduce the tokens, outputHash,
  traceRoot and trace length bit for bit.
A vision answer (the gateway's response for an image, verity.task "vision") is checked instead
for: the message is the label; the miner's signature over input, label, scores and proof; the
public signals; the Groth16 proof against the local circuit (--circuit <dir>, default
circuits/build/digits). --onchain (with --rpc and --deployment) then asks the deployment's
VisionAnswers (contracts.vision) for its model id, which must be the answer's, and its verifier's
verifyProof by eth_call, and reports what the contract said.
Exit 0 when every check passes, 1 otherwise.

${CHAIN_FLAGS_HELP}`

const spec = {
  request: { type: 'string' },
  reexecute: { type: 'boolean' },
  model: { type: 'string' },
  lease: { type: 'string' },
  onchain: { type: 'boolean' },
  circuit: { type: 'string' },
  ...CHAIN_FLAGS,
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'check a saved answer alone: signature, text, prompt, registration, re-execution',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one response file')
    const sources = chainSources(flags)
    const withChain = sources.rpc !== undefined || sources.deployment !== undefined
    const file = positionals[0]!
    const read = (path: string) => {
      try {
        return readFileSync(path, 'utf8')
      } catch (error) {
        throw new ReceiptError(`cannot read ${path}`, { details: (error as Error).message })
      }
    }
    const text = read(file)
    const vision = savedVisionResponse(text)
    if (vision) return await verifyVisionCommand(vision, flags)
    if (flags.onchain || flags.circuit)
      throw new UsageError('--onchain and --circuit are for vision answers (verity.task "vision")')
    const all = parseSavedResponses(text)
    const model = loadModel(readModelFile(flags.model as string | undefined))
    const renderer = promptRenderer(model.metadata)
    const mismatches: Mismatch[] = checkChoices(all.map((s) => s.bundle.request))
    const passed: string[] = []
    let registration: 'checked' | 'not checked' = 'not checked'
    let reexecuted = all.length > 0
    for (const [index, saved] of all.entries()) {
      const { bundle, shown } = saved
      const { receipt } = bundle
      const label = all.length > 1 ? `choice ${index}: ` : ''
      const before = mismatches.length
      if (toHex(model.modelRoot) !== receipt.modelRoot.toLowerCase())
        throw new ReceiptError('the local model is not the receipt model', {
          details: `receipt modelRoot ${receipt.modelRoot}, local ${toHex(model.modelRoot)} (pass --model)`,
        })
      mismatches.push(...(await checkSavedResponse(saved, renderer)))
      const start = passed.length
      if (mismatches.length === before) {
        passed.push(
          `signature ok: signed by miner ${receipt.minerHotkey}, answering call ${receipt.nonce.slice(0, 10)}… of ${bundle.call.caller}`,
        )
        passed.push(
          shown
            ? `text ok: the ${shown.kind === 'chat' ? 'message' : 'completion'} shown is the decoding of the ${bundle.tokens.length} signed tokens; the prompt is the rendering of the request's ${bundle.request.prompt?.kind === 'chat' ? 'messages' : 'prompt'}`
            : 'bundle only: no text shown to compare',
        )
      }
      if (flags.request !== undefined) {
        const found = checkSentBody(
          read(flags.request as string),
          shown?.kind ?? 'chat',
          bundle.request,
          { index, choices: all.length },
        )
        mismatches.push(...found)
        if (found.length === 0) passed.push('sent request ok: the miner ran what you sent')
      }
      if (withChain) {
        const session = await openChain(flags)
        if (session.chainId !== receipt.chainId)
          throw new ReceiptError(
            `the receipt is for chain ${receipt.chainId}, ${session.rpcUrl} serves chain ${session.chainId}`,
          )
        const chainFailed = (error: unknown): never => {
          throw new UsageError(`cannot read the chain at ${session.rpcUrl}`, {
            details: (error as Error).message.split('\n')[0],
          })
        }
        if (receipt.netuid === 0) {
          const market = session.deployment.contracts.market
          if (!market)
            throw new UsageError(
              'a leased answer (netuid 0) needs a deployment with a compute market',
            )
          if (typeof flags.lease !== 'string' || !/^[1-9]\d{0,19}$/.test(flags.lease))
            throw new UsageError(
              'a leased answer (netuid 0) is checked against its lease: pass --lease <id>',
            )
          const found = await checkLeaseReceipt(session.publicClient, {
            market,
            leaseId: BigInt(flags.lease),
            receipt,
            fromBlock: session.deployment.block,
          }).catch(chainFailed)
          mismatches.push(...found)
          if (found.length === 0)
            passed.push(
              `lease ok: ${receipt.minerHotkey} signs for lease ${flags.lease}, vouched for by its provider; the lease serves ${receipt.modelRoot.slice(0, 10)}… and ran at block ${receipt.issuedBlock}`,
            )
        } else {
          if (flags.lease !== undefined)
            throw new UsageError('--lease is for a leased answer (netuid 0)')
          const found = await checkRegistration(
            session.publicClient,
            receipt,
            session.deployment.contracts.verity,
          ).catch(chainFailed)
          mismatches.push(...found)
          if (found.length === 0)
            passed.push(
              `registration ok: ${receipt.minerHotkey} held a uid on subnet ${receipt.netuid} serving ${receipt.modelRoot.slice(0, 10)}… at block ${receipt.issuedBlock}`,
            )
        }
        registration = 'checked'
      } else
        passed.push(
          'registration NOT checked (no chain): any key could have signed this; pass --rpc and --deployment',
        )
      let ran = false
      if (flags.reexecute && mismatches.length === before) {
        const result = reexecuteReceipt(model, renderer.tokenizer, bundle.request, receipt)
        for (const m of result.mismatches) {
          const [field, ...rest] = m.split(': ')
          mismatches.push({ field: `receipt.${field}`, problem: rest.join(': ') || m })
        }
        if (result.local && result.local.tokens.join() !== bundle.tokens.join())
          mismatches.push({ field: 'tokens', problem: 'an honest run gives other tokens' })
        mismatches.push(
          ...checkShownLogprobs(renderer.tokenizer, shown, bundle.tokens, result.local?.logprobs),
        )
        if (result.ok && mismatches.length === before) {
          ran = true
          passed.push(
            `re-execution ok: tokens, outputHash, traceRoot and its ${receipt.traceLeaves} checkpoints reproduced`,
          )
        }
      }
      if (!ran) reexecuted = false
      for (let i = start; i < passed.length; i++) passed[i] = `${label}${passed[i]}`
      for (let i = before; i < mismatches.length; i++)
        if (label && !mismatches[i]!.field.startsWith('choices['))
          mismatches[i] = { ...mismatches[i]!, field: `choices[${index}] ${mismatches[i]!.field}` }
    }
    const ok = mismatches.length === 0
    if (flags.json) console.log(JSON.stringify({ ok, registration, reexecuted, mismatches }))
    else if (ok) for (const line of passed) console.log(line)
    if (!flags.json) for (const m of mismatches) console.error(`error: ${m.field}: ${m.problem}`)
    return ok ? 0 : 1
  },
}
