import type { Address, Chain, Client, Transport } from 'viem'
import { BaseError } from '../../src/errors/base.ts'
import { loadModel, type Model } from '../../src/runtime/model/load.ts'
import { toHex } from '../../src/runtime/trace/merkle.ts'
import { type PromptRenderer, promptRenderer } from '../../src/verify/prompt/render.ts'
import { reexecuteReceiptAsync } from '../../src/verify/reexecute.ts'
import { checkRegistration } from '../../src/verify/registration.ts'
import {
  checkChoices,
  checkSavedResponse,
  type Mismatch,
  parseSavedResponses,
} from '../../src/verify/response.ts'

export type Verdict = { ok: boolean; passed: string[]; mismatches: Mismatch[] }

type Loaded = { model: Model; renderer: PromptRenderer }
const models = new Map<string, Promise<Loaded>>()

/**
 * The model a receipt names, fetched from the gateway and loaded here: its modelRoot is computed
 * in the browser, so a gateway that serves another file is caught, not trusted.
 */
function modelFor(modelRoot: string, signal?: AbortSignal): Promise<Loaded> {
  const key = modelRoot.toLowerCase()
  let loading = models.get(key)
  if (!loading) {
    loading = (async () => {
      const res = await fetch(`./models/${key}.gguf`, signal ? { signal } : {})
      if (!res.ok) throw new Error(`the gateway does not serve model ${key} (HTTP ${res.status})`)
      const model = loadModel(new Uint8Array(await res.arrayBuffer()))
      if (toHex(model.modelRoot) !== key)
        throw new Error(`the gateway served a model whose modelRoot is ${toHex(model.modelRoot)}`)
      return { model, renderer: promptRenderer(model.metadata) }
    })()
    loading.catch(() => models.delete(key))
    models.set(key, loading)
  }
  return loading
}

const problem = (error: unknown) =>
  error instanceof BaseError
    ? error.shortMessage
    : error instanceof Error
      ? error.message
      : String(error)

/**
 * What `verity verify` checks without re-execution, run in the browser on a pasted response:
 * signature, hashes and call (verifyBundle), prompt rendering and shown text with the model's
 * own tokenizer and template, and, given a chain, that the signer held a uid serving the model.
 */
export async function verifyAnswer(
  text: string,
  chain: { client: Client<Transport, Chain>; verity: Address } | undefined,
  options: { signal?: AbortSignal } = {},
): Promise<Verdict> {
  const passed: string[] = []
  const mismatches: Mismatch[] = []
  let all: ReturnType<typeof parseSavedResponses>
  try {
    all = parseSavedResponses(text)
  } catch (error) {
    return { ok: false, passed, mismatches: [{ field: 'response', problem: problem(error) }] }
  }
  mismatches.push(...checkChoices(all.map((s) => s.bundle.request)))
  for (const [index, saved] of all.entries()) {
    const { bundle, shown } = saved
    const { receipt } = bundle
    const label = all.length > 1 ? `choice ${index}: ` : ''
    const before = mismatches.length
    let loaded: Loaded
    try {
      loaded = await modelFor(receipt.modelRoot, options.signal)
    } catch (error) {
      mismatches.push({ field: 'receipt.modelRoot', problem: problem(error) })
      continue
    }
    mismatches.push(...(await checkSavedResponse(saved, loaded.renderer)))
    if (mismatches.length === before) {
      passed.push(
        `${label}signature ok: signed by miner ${receipt.minerHotkey}, answering call ${receipt.nonce.slice(0, 10)}… of ${bundle.call.caller}`,
      )
      passed.push(
        shown
          ? `${label}text ok: the text shown is the decoding of the ${bundle.tokens.length} signed tokens; the prompt is the rendering of the request`
          : `${label}bundle only: no text shown to compare`,
      )
    }
    if (chain && receipt.netuid !== 0) {
      const found = await checkRegistration(chain.client, receipt, chain.verity, options).catch(
        (error: unknown) => [{ field: 'chain', problem: problem(error) }],
      )
      mismatches.push(...found)
      if (found.length === 0)
        passed.push(
          `${label}registration ok: ${receipt.minerHotkey} held a uid on subnet ${receipt.netuid} at block ${receipt.issuedBlock}`,
        )
    } else passed.push(`${label}registration NOT checked`)
  }
  return { ok: mismatches.length === 0 && all.length > 0, passed, mismatches }
}

export type Reexecution = { ok: boolean; lines: string[]; mismatches: Mismatch[]; ms: number }

/**
 * `verity verify --reexecute` in the browser: the runtime (WebAssembly kernel) re-runs each
 * choice's request with the model fetched above and must reproduce the tokens, outputHash,
 * traceRoot and trace length. `onProgress(done, total)` is called after every token.
 */
export async function reexecuteAnswer(
  text: string,
  onProgress: (done: number, total: number) => void,
  options: { signal?: AbortSignal } = {},
): Promise<Reexecution> {
  const started = performance.now()
  const all = parseSavedResponses(text)
  const total = all.reduce((n, s) => n + s.bundle.tokens.length, 0)
  const lines: string[] = []
  const mismatches: Mismatch[] = []
  let done = 0
  for (const [index, { bundle }] of all.entries()) {
    const { receipt } = bundle
    const label = all.length > 1 ? `choice ${index}: ` : ''
    const { model, renderer } = await modelFor(receipt.modelRoot, options.signal)
    const before = done
    const result = await reexecuteReceiptAsync(model, renderer.tokenizer, bundle.request, receipt, {
      ...options,
      onToken: (_token, i) => {
        done = before + i + 1
        onProgress(Math.min(done, total), total)
      },
    })
    for (const m of result.mismatches) {
      const [field, ...rest] = m.split(': ')
      mismatches.push({ field: `${label}receipt.${field}`, problem: rest.join(': ') || m })
    }
    if (result.local && result.local.tokens.join() !== bundle.tokens.join())
      mismatches.push({ field: `${label}tokens`, problem: 'an honest run gives other tokens' })
    if (result.ok && result.local?.tokens.join() === bundle.tokens.join())
      lines.push(
        `${label}re-execution ok: tokens, outputHash, traceRoot ${receipt.traceRoot.slice(0, 10)}… and its ${receipt.traceLeaves} checkpoints reproduced`,
      )
  }
  onProgress(total, total)
  return { ok: mismatches.length === 0, lines, mismatches, ms: performance.now() - started }
}
