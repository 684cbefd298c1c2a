import { UsageError } from '../../errors/cli.ts'
import { readGguf } from '../../runtime/gguf/read.ts'
import { ggmlTypeLabel } from '../../runtime/gguf/types.ts'
import { loadModelFromGguf } from '../../runtime/model/load.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import { parseArgs } from '../args.ts'
import { KEY_FLAGS } from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { nativeSha256, openModelFile, peakRssMiB } from '../model-file.ts'
import { publish } from '../model-publish.ts'

const HELP = `usage: verity model info <file.gguf|default> [--json]
       verity model publish <file.gguf|default> --netuid <id> --key <hotkey keyfile>
                            [--rpc <url>] [--deployment <file|url>] [--passphrase-file <file>] [--json]

info: prints the architecture, dimensions, tensor types and the modelRoot: the Merkle root over the
quantized weight rows and the config that identifies the model on chain; and the memory the load
took: the int8 weights and the process's peak resident set (the file is read in chunks, so the
peak stays below 1.25 x the int8 weights + 200 MiB).
publish: commits the model to a model competition subnet (ModelCompetition, the manifest's
contracts.competition) from a registered hotkey: its modelRoot, the file root (a Merkle root over its 1 MiB chunks and
its size, against which validators check each chunk they download), its size and parameter count. A new commitment replaces the hotkey's previous one and takes the new block; a
model another hotkey committed first is recorded as a copy and earns nothing. Validators download
the file from the miner's node over libp2p (/verity/model-file/1), checking each chunk against
the file root; publish itself only commits: serve the file with 'verity node --role model-miner
--serve-model <file.gguf>'.

${CHAIN_FLAGS_HELP}
Keyfiles are decrypted with --passphrase-file or VERITY_PASSPHRASE.`

export const command: Command = {
  summary: 'inspect a GGUF model',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, {
      ...CHAIN_FLAGS,
      ...KEY_FLAGS,
      netuid: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    })
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    const [sub, file, ...extra] = positionals
    if (sub !== 'info' && sub !== 'publish')
      throw new UsageError(
        sub
          ? `unknown subcommand 'model ${sub}' (expected 'model info' or 'model publish')`
          : "expected 'verity model info <file.gguf>'",
      )
    if (!file) throw new UsageError(`'verity model ${sub}' needs a GGUF file (or 'default')`)
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`)
    if (sub === 'publish') return await publish(file, flags)
    const source = openModelFile(file)
    let gguf: ReturnType<typeof readGguf>
    let model: ReturnType<typeof loadModelFromGguf>
    try {
      gguf = readGguf(source)
      model = loadModelFromGguf(gguf, { sha256: nativeSha256 })
    } finally {
      source.close()
    }
    const peakRss = peakRssMiB()
    let int8Bytes = 0
    for (const m of [
      model.embed,
      ...model.layers.flatMap((l) => [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown]),
    ])
      int8Bytes += m.rows * m.cols
    if (model.output !== model.embed) int8Bytes += model.output.rows * model.output.cols
    const int8WeightsMiB = Math.round((int8Bytes / 2 ** 20) * 10) / 10
    const types: Record<string, number> = {}
    let parameters = 0
    for (const t of gguf.tensors) {
      const label = ggmlTypeLabel(t.type)
      types[label] = (types[label] ?? 0) + 1
      parameters += t.dims.reduce((a, b) => a * b, 1)
    }
    const c = model.config
    const info = {
      name: c.name,
      architecture: model.config.arch ?? 'llama',
      ggufVersion: gguf.version,
      fileBytes: source.size,
      parameters,
      config: c,
      tensors: gguf.tensors.length,
      tensorTypes: types,
      tokenizer: gguf.metadata.get('tokenizer.ggml.model') ?? null,
      chatTemplate: gguf.metadata.has('tokenizer.chat_template'),
      modelRoot: toHex(model.modelRoot),
      weightLeaves: model.weightLeafCount,
      int8WeightsMiB,
      peakRssMiB: peakRss,
      peakRssBoundMiB: Math.round(1.25 * int8WeightsMiB + 200),
    }
    if (flags.json) {
      console.log(JSON.stringify(info))
      return 0
    }
    const lines = [
      `name           ${info.name}`,
      `architecture   ${info.architecture} (GGUF v${info.ggufVersion}, ${(info.fileBytes / 2 ** 20).toFixed(2)} MiB)${c.ropeType === 'neox' ? ', NEOX rope' : ''}${c.attnBias ? ', q/k/v biases' : ''}${c.ropeFreqFactors ? ', rope_freqs' : ''}`,
      `parameters     ${parameters.toLocaleString('en-US')}`,
      `dimensions     vocab ${c.vocabSize}, dim ${c.dim}, layers ${c.nLayers}, heads ${c.nHeads} (kv ${c.nKvHeads}, head dim ${c.headDim}), ffn ${c.ffnDim}`,
      `context        ${c.contextLength} (rope dim ${c.ropeDim}, base ${c.ropeTheta}), rms eps ${c.normEps}, output ${c.tiedOutput ? 'tied to embeddings' : 'separate'}`,
      `tensors        ${info.tensors}: ${Object.entries(types)
        .map(([t, n]) => `${n} ${t}`)
        .join(', ')}`,
      `tokenizer      ${String(info.tokenizer)}${info.chatTemplate ? ', chat template' : ''}`,
      `modelRoot      ${info.modelRoot} (${info.weightLeaves} leaves)`,
      `memory         int8 weights ${int8WeightsMiB} MiB, peak RSS while loading ${peakRss} MiB (bound ${info.peakRssBoundMiB} MiB)`,
    ]
    console.log(lines.join('\n'))
    return 0
  },
}
