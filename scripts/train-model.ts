/**
 * Trains Verity's default model, verity-tiny: a small llama (RMSNorm, RoPE in llama.cpp's NORM
 * mode, SwiGLU, no biases, untied output) on the King James Bible from Debian's bible-kjv-text,
 * with a SentencePiece-style BPE vocab trained by the runtime's own `trainSpmBpe`, and writes it
 * as GGUF (F32) with llama tokenizer metadata and a ChatML-like chat template.
 *
 * Float32 forward/backward in the spirit of llm.c: every matrix product goes through one
 * hand-written WebAssembly SIMD kernel (below, compiled with wabt at start-up); the rest are plain
 * loops. AdamW, linear warm-up then cosine decay, global gradient-norm clipping. Seeded: the same
 * command gives the same weights on the same Node version (Math.exp/log/cos are engine-defined).
 *
 *   bash scripts/install-corpus.sh
 *   node bin/run-ts.js scripts/train-model.ts --steps 900 [--resume]
 *
 * Writes models/verity-tiny.gguf (every --ckpt-every steps and at the end), a resumable
 * checkpoint models/.verity-tiny.ckpt (not committed) and the loss log
 * models/verity-tiny.train.jsonl.
 *
 * Fine-tuning (continued training) of any llama GGUF the trainer can represent (F32, F16, BF16 or
 * Q8_0 weights, trained in F32; scripts/train/gguf-source.ts says what it refuses):
 *
 *   node bin/run-ts.js scripts/train-model.ts --from <in.gguf> --data <text file> --out <out.gguf>
 *     [--steps 100 --lr 3e-4 --warmup 10 --batch 8 --seq 256 --held-out <text file> --name <name>]
 *
 * One training unit per non-empty line of --data (a row is BOS then whole lines, as for the KJV
 * verses). The dimensions come from the input, and every metadata entry (tokenizer, chat
 * template) is carried over unchanged except general.file_type (F32) and --name. The output is
 * F32; the loss log goes to <out>.train.jsonl (--log). models/verity-tiny-ft.gguf is made so
 * (README, "Fine-tuning").
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import wabtFactory from 'wabt'
import { readGguf } from '../src/runtime/gguf/read.ts'
import { tensorByName, tensorToFloat32 } from '../src/runtime/gguf/tensor.ts'
import { GgmlType } from '../src/runtime/gguf/types.ts'
import {
  type GgufWriteSpec,
  type GgufWriteValue,
  gguf,
  writeGguf,
} from '../src/runtime/gguf/write.ts'
import { Prng } from '../src/runtime/sampler/prng.ts'
import { buildLlamaVocab, metadataFromEntries } from '../src/runtime/tokenizer/build-vocab.ts'
import { tokenizerFromGguf } from '../src/runtime/tokenizer/tokenizer.ts'
import { trainSpmBpe } from '../src/runtime/tokenizer/train.ts'
import { HELD_OUT_EVERY, heldOutWindows, kjvVerses, splitVerses } from './kjv-corpus.ts'
import {
  f32Tensor,
  fineTunedMetadata,
  type SourceConfig,
  sourceConfig,
  sourceTensor,
  UnsupportedGgufError,
} from './train/gguf-source.ts'

// --- configuration -------------------------------------------------------------------------

const args = process.argv.slice(2)
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? String(args[i + 1]) : fallback
}

/** The model a fine-tune starts from (--from), checked before anything is allocated. */
function openSource(path: string): { file: ReturnType<typeof readGguf>; config: SourceConfig } {
  const fail = (message: string): never => {
    console.error(`train-model: cannot fine-tune ${path}: ${message}`)
    process.exit(2)
  }
  for (const required of ['data', 'out'])
    if (!args.includes(`--${required}`)) fail(`--from needs --${required}`)
  if (args.includes('--resume')) fail('--resume is for training from scratch only')
  try {
    const file = readGguf(readFileSync(path))
    return { file, config: sourceConfig(file) }
  } catch (error) {
    return fail(error instanceof UnsupportedGgufError ? error.shortMessage : String(error))
  }
}
const SOURCE = args.includes('--from') ? openSource(option('from', '')) : undefined
const tuned = SOURCE?.config

export const CONFIG = {
  seed: flag('seed', tuned ? 17 : 20261122),
  vocabSize: tuned?.vocabSize ?? flag('vocab', 2048),
  dim: tuned?.dim ?? flag('dim', 128),
  nLayers: tuned?.nLayers ?? flag('layers', 4),
  nHeads: tuned?.nHeads ?? flag('heads', 4),
  ffnDim: tuned?.ffnDim ?? flag('ffn', 352),
  seqLen: flag('seq', tuned ? Math.min(256, tuned.contextLength) : 256),
  batch: flag('batch', 8),
  steps: flag('steps', tuned ? 100 : 900),
  lr: flag('lr', tuned ? 3e-4 : 2e-3),
  minLrFrac: 0.1,
  warmup: flag('warmup', tuned ? 10 : 40),
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  clip: 1.0,
  normEps: tuned?.normEps ?? 1e-5,
  ropeTheta: tuned?.ropeTheta ?? 10000,
  evalEvery: flag('eval-every', 50),
  evalSeqs: 8,
  ckptEvery: flag('ckpt-every', 50),
  heldOutEvery: HELD_OUT_EVERY,
}
const root = join(import.meta.dirname, '..')
const OUT = option('out', join(root, 'models/verity-tiny.gguf'))
const CKPT = join(root, 'models/.verity-tiny.ckpt')
const LOG = SOURCE
  ? option('log', `${OUT.replace(/\.gguf$/, '')}.train.jsonl`)
  : join(root, 'models/verity-tiny.train.jsonl')
/** The BOS id that starts every training row (the source tokenizer's when fine-tuning). */
let BOS = 1
const BENCH = args.includes('--bench')

export const MODEL_NAME = 'verity-tiny'
export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

// --- the WebAssembly SIMD matrix kernel -----------------------------------------------------

// C[M,N] (=, or += when acc) sum_k A(m,k) * B[k,n]. A(m,k) is at a + 4 (m ars + k acs), so A may be
// read transposed; B and C are row-major with N columns. M % 4 == 0, N % 8 == 0. Blocks of 4 rows
// by 8 columns: eight f32x4 accumulators, B's two vectors shared by the four rows.
const KERNEL_WAT = `
(module
  (import "env" "memory" (memory 1))
  (func (export "matmul") (param $c i32) (param $a i32) (param $b i32) (param $M i32) (param $N i32)
    (param $K i32) (param $ars i32) (param $acs i32) (param $acc i32)
    (local $m i32) (local $n i32) (local $k i32) (local $rowB i32) (local $acsB i32) (local $arsB i32)
    (local $pa i32) (local $qa i32) (local $pb i32) (local $pc i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local.set $rowB (i32.shl (local.get $N) (i32.const 2)))
    (local.set $acsB (i32.shl (local.get $acs) (i32.const 2)))
    (local.set $arsB (i32.shl (local.get $ars) (i32.const 2)))
    (local.set $m (i32.const 0))
    (block $mdone (loop $mloop
      (br_if $mdone (i32.ge_u (local.get $m) (local.get $M)))
      (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $m) (local.get $arsB))))
      (local.set $n (i32.const 0))
      (block $ndone (loop $nloop
        (br_if $ndone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $qa (local.get $pa))
        (local.set $k (local.get $K))
        (block $kdone (loop $kloop
          (br_if $kdone (i32.eqz (local.get $k)))
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $x (f32x4.splat (f32.load (local.get $qa))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (f32x4.splat (f32.load (i32.add (local.get $qa) (local.get $arsB)))))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (f32x4.splat (f32.load (i32.add (local.get $qa) (i32.shl (local.get $arsB) (i32.const 1))))))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (f32x4.splat (f32.load (i32.add (local.get $qa) (i32.mul (local.get $arsB) (i32.const 3))))))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $pb (i32.add (local.get $pb) (local.get $rowB)))
          (local.set $qa (i32.add (local.get $qa) (local.get $acsB)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $kloop)))
        (local.set $pc (i32.add (local.get $c)
          (i32.shl (i32.add (i32.mul (local.get $m) (local.get $N)) (local.get $n)) (i32.const 2))))
        (if (local.get $acc) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $pc))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $pc))))
          (local.set $c10 (f32x4.add (local.get $c10) (v128.load (i32.add (local.get $pc) (local.get $rowB)))))
          (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (i32.add (local.get $pc) (local.get $rowB)))))
          (local.set $c20 (f32x4.add (local.get $c20) (v128.load (i32.add (local.get $pc) (i32.shl (local.get $rowB) (i32.const 1))))))
          (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (i32.add (local.get $pc) (i32.shl (local.get $rowB) (i32.const 1))))))
          (local.set $c30 (f32x4.add (local.get $c30) (v128.load (i32.add (local.get $pc) (i32.mul (local.get $rowB) (i32.const 3))))))
          (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (i32.add (local.get $pc) (i32.mul (local.get $rowB) (i32.const 3))))))))
        (v128.store (local.get $pc) (local.get $c00))
        (v128.store offset=16 (local.get $pc) (local.get $c01))
        (v128.store (i32.add (local.get $pc) (local.get $rowB)) (local.get $c10))
        (v128.store offset=16 (i32.add (local.get $pc) (local.get $rowB)) (local.get $c11))
        (v128.store (i32.add (local.get $pc) (i32.shl (local.get $rowB) (i32.const 1))) (local.get $c20))
        (v128.store offset=16 (i32.add (local.get $pc) (i32.shl (local.get $rowB) (i32.const 1))) (local.get $c21))
        (v128.store (i32.add (local.get $pc) (i32.mul (local.get $rowB) (i32.const 3))) (local.get $c30))
        (v128.store offset=16 (i32.add (local.get $pc) (i32.mul (local.get $rowB) (i32.const 3))) (local.get $c31))
        (local.set $n (i32.add (local.get $n) (i32.const 8)))
        (br $nloop)))
      (local.set $m (i32.add (local.get $m) (i32.const 4)))
      (br $mloop)))))
`

/** The slice of the WebAssembly JS API used here (the project's lib has no DOM types). */
type WasmApi = {
  Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer }
  instantiate(
    bytes: Uint8Array,
    imports: object,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/** Float32 tensors in one WebAssembly memory, so the kernel can address them by byte offset. */
class Arena {
  readonly memory: { readonly buffer: ArrayBuffer }
  readonly f32: Float32Array
  private top = 16
  private matmulFn!: (...a: number[]) => void
  constructor(floats: number) {
    const pages = Math.ceil(((floats + 64) * 4) / 65536)
    this.memory = new wasm.Memory({ initial: pages, maximum: pages })
    this.f32 = new Float32Array(this.memory.buffer)
  }
  async init(): Promise<void> {
    const wabt = await wabtFactory()
    const mod = wabt.parseWat('train.wat', KERNEL_WAT, { simd: true })
    mod.resolveNames()
    mod.validate()
    const binary = mod.toBinary({ log: false }).buffer
    mod.destroy()
    const { instance } = await wasm.instantiate(binary, { env: { memory: this.memory } })
    this.matmulFn = instance.exports.matmul as (...a: number[]) => void
  }
  /** A zeroed view of n floats, 16-byte aligned. */
  alloc(n: number): Float32Array {
    const off = this.top
    this.top += Math.ceil(n / 4) * 4
    if (this.top > this.f32.length) throw new RangeError('arena exhausted')
    return this.f32.subarray(off, off + n)
  }
  get used(): number {
    return this.top
  }
  /** C[M,N] (+)= A(M,K) B[K,N], A(m,k) = a[m ars + k acs]. */
  matmul(
    c: Float32Array,
    a: Float32Array,
    b: Float32Array,
    M: number,
    N: number,
    K: number,
    acc: boolean,
    ars = K,
    acs = 1,
  ): void {
    if (M % 4 || N % 8) throw new RangeError(`matmul shape ${M}x${N}`)
    this.matmulFn(c.byteOffset, a.byteOffset, b.byteOffset, M, N, K, ars, acs, acc ? 1 : 0)
  }
}

/** out[cols, rows] = transpose of x[rows, cols]. */
function transpose(out: Float32Array, x: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c]!
}

// --- parameters --------------------------------------------------------------------------------

type Param = { name: string; rows: number; cols: number; offset: number; decay: boolean }
type Layer = {
  attnNorm: Param
  wq: Param
  wk: Param
  wv: Param
  wo: Param
  ffnNorm: Param
  w1: Param
  w3: Param
  w2: Param
}

function layout(cfg: typeof CONFIG) {
  const params: Param[] = []
  let offset = 0
  const add = (name: string, rows: number, cols: number, decay = true): Param => {
    const p = { name, rows, cols, offset, decay }
    offset += rows * cols
    params.push(p)
    return p
  }
  const { dim, ffnDim, vocabSize } = cfg
  const embd = add('token_embd.weight', vocabSize, dim)
  const layers: Layer[] = []
  for (let l = 0; l < cfg.nLayers; l++) {
    const b = `blk.${l}`
    layers.push({
      attnNorm: add(`${b}.attn_norm.weight`, 1, dim, false),
      wq: add(`${b}.attn_q.weight`, dim, dim),
      wk: add(`${b}.attn_k.weight`, dim, dim),
      wv: add(`${b}.attn_v.weight`, dim, dim),
      wo: add(`${b}.attn_output.weight`, dim, dim),
      ffnNorm: add(`${b}.ffn_norm.weight`, 1, dim, false),
      w1: add(`${b}.ffn_gate.weight`, ffnDim, dim),
      w3: add(`${b}.ffn_up.weight`, ffnDim, dim),
      w2: add(`${b}.ffn_down.weight`, dim, ffnDim),
    })
  }
  const outNorm = add('output_norm.weight', 1, dim, false)
  const output = add('output.weight', vocabSize, dim)
  return { params, count: offset, embd, layers, outNorm, output }
}

// --- the model: activations, forward, backward -------------------------------------------------

class Trainer {
  readonly cfg = CONFIG
  readonly L = layout(CONFIG)
  readonly arena: Arena
  readonly w: Float32Array
  readonly g: Float32Array
  readonly m: Float32Array
  readonly v: Float32Array
  readonly BT: number
  // activations: per layer (BT, dim) unless noted
  readonly xs: Float32Array[] = [] // residual stream entering each layer, and after the last
  readonly xmid: Float32Array[] = []
  readonly n1: Float32Array[] = []
  readonly n2: Float32Array[] = []
  readonly rstd1: Float32Array[] = [] // (BT)
  readonly rstd2: Float32Array[] = []
  readonly q: Float32Array[] = [] // after RoPE
  readonly k: Float32Array[] = []
  readonly vv: Float32Array[] = []
  readonly att: Float32Array[] = [] // (B, nHeads, T, T) softmax probabilities
  readonly ao: Float32Array[] = [] // attention output before wo
  readonly gate: Float32Array[] = [] // (BT, ffn)
  readonly up: Float32Array[] = []
  readonly hh: Float32Array[] = []
  readonly nf: Float32Array
  readonly rstdf: Float32Array
  readonly logits: Float32Array // (BT, vocab), probabilities after forward
  // scratch
  readonly wt: Float32Array
  readonly dx: Float32Array
  readonly dmid: Float32Array
  readonly dn: Float32Array
  readonly dq: Float32Array
  readonly dk: Float32Array
  readonly dv: Float32Array
  readonly dao: Float32Array
  readonly dgate: Float32Array
  readonly dup: Float32Array
  readonly dh: Float32Array
  readonly qh: Float32Array // (T, hd)
  readonly kh: Float32Array
  readonly kht: Float32Array // (hd, T)
  readonly vh: Float32Array
  readonly vht: Float32Array
  readonly oh: Float32Array
  readonly doh: Float32Array
  readonly dqh: Float32Array
  readonly dkh: Float32Array
  readonly dvh: Float32Array
  readonly dp: Float32Array // (T, T)
  readonly cos: Float64Array // (T, hd/2)
  readonly sin: Float64Array
  tokens = new Int32Array(0)
  /** How many targets the last forward() scored (targets < 0 are padding). */
  lastCount = 0
  targets = new Int32Array(0)

  constructor() {
    const { dim, ffnDim, vocabSize, seqLen: T, batch: B, nLayers, nHeads } = this.cfg
    const BT = B * T
    this.BT = BT
    const hd = dim / nHeads
    const P = this.L.count
    const perLayer = BT * dim * 9 + BT * 2 + B * nHeads * T * T + BT * ffnDim * 3
    const floats =
      P * 4 +
      perLayer * nLayers +
      BT * dim * 10 +
      BT * vocabSize +
      BT * ffnDim * 3 +
      vocabSize * dim +
      T * hd * 11 +
      T * T +
      4096
    this.arena = new Arena(floats)
    const a = this.arena
    this.w = a.alloc(P)
    this.g = a.alloc(P)
    this.m = a.alloc(P)
    this.v = a.alloc(P)
    for (let l = 0; l <= nLayers; l++) this.xs.push(a.alloc(BT * dim))
    for (let l = 0; l < nLayers; l++) {
      this.xmid.push(a.alloc(BT * dim))
      this.n1.push(a.alloc(BT * dim))
      this.n2.push(a.alloc(BT * dim))
      this.rstd1.push(a.alloc(BT))
      this.rstd2.push(a.alloc(BT))
      this.q.push(a.alloc(BT * dim))
      this.k.push(a.alloc(BT * dim))
      this.vv.push(a.alloc(BT * dim))
      this.att.push(a.alloc(B * nHeads * T * T))
      this.ao.push(a.alloc(BT * dim))
      this.gate.push(a.alloc(BT * ffnDim))
      this.up.push(a.alloc(BT * ffnDim))
      this.hh.push(a.alloc(BT * ffnDim))
    }
    this.nf = a.alloc(BT * dim)
    this.rstdf = a.alloc(BT)
    this.logits = a.alloc(BT * vocabSize)
    this.wt = a.alloc(Math.max(vocabSize, ffnDim) * dim)
    this.dx = a.alloc(BT * dim)
    this.dmid = a.alloc(BT * dim)
    this.dn = a.alloc(BT * dim)
    this.dq = a.alloc(BT * dim)
    this.dk = a.alloc(BT * dim)
    this.dv = a.alloc(BT * dim)
    this.dao = a.alloc(BT * dim)
    this.dgate = a.alloc(BT * ffnDim)
    this.dup = a.alloc(BT * ffnDim)
    this.dh = a.alloc(BT * ffnDim)
    this.qh = a.alloc(T * hd)
    this.kh = a.alloc(T * hd)
    this.kht = a.alloc(T * hd)
    this.vh = a.alloc(T * hd)
    this.vht = a.alloc(T * hd)
    this.oh = a.alloc(T * hd)
    this.doh = a.alloc(T * hd)
    this.dqh = a.alloc(T * hd)
    this.dkh = a.alloc(T * hd)
    this.dvh = a.alloc(T * hd)
    this.dp = a.alloc(T * T)
    this.cos = new Float64Array((T * hd) / 2)
    this.sin = new Float64Array((T * hd) / 2)
    for (let t = 0; t < T; t++)
      for (let i = 0; i < hd / 2; i++) {
        const angle = t * this.cfg.ropeTheta ** ((-2 * i) / hd)
        this.cos[(t * hd) / 2 + i] = Math.cos(angle)
        this.sin[(t * hd) / 2 + i] = Math.sin(angle)
      }
  }

  view(p: Param, buf = this.w): Float32Array {
    return buf.subarray(p.offset, p.offset + p.rows * p.cols)
  }

  /** Normal(0, 0.02) weights (residual projections / sqrt(2 layers)), norms 1. */
  initWeights(seed: number): void {
    const prng = new Prng(seed)
    const uniform = () => (prng.next() + 0.5) / 2 ** 32
    for (const p of this.L.params) {
      const x = this.view(p)
      if (!p.decay) {
        x.fill(1)
        continue
      }
      const std =
        p.name.endsWith('attn_output.weight') || p.name.endsWith('ffn_down.weight')
          ? 0.02 / Math.sqrt(2 * this.cfg.nLayers)
          : 0.02
      for (let i = 0; i < x.length; i++)
        x[i] = std * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
    }
  }

  /** out = x W^T for x (BT, in), W (out, in). */
  linear(out: Float32Array, x: Float32Array, p: Param): void {
    const W = this.view(p)
    transpose(this.wt, W, p.rows, p.cols)
    this.arena.matmul(out, x, this.wt, this.BT, p.rows, p.cols, false)
  }

  /** Backward of linear: dW += dout^T x; dx (+)= dout W. */
  linearBack(dx: Float32Array, dout: Float32Array, x: Float32Array, p: Param, acc: boolean): void {
    const a = this.arena
    a.matmul(this.view(p, this.g), dout, x, p.rows, p.cols, this.BT, true, 1, p.rows)
    a.matmul(dx, dout, this.view(p), this.BT, p.cols, p.rows, acc)
  }

  rmsnorm(out: Float32Array, rstd: Float32Array, x: Float32Array, p: Param): void {
    const d = this.cfg.dim
    const w = this.view(p)
    for (let i = 0; i < this.BT; i++) {
      let ss = 0
      for (let j = 0; j < d; j++) ss += x[i * d + j]! * x[i * d + j]!
      const r = 1 / Math.sqrt(ss / d + this.cfg.normEps)
      rstd[i] = r
      for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j]! * r * w[j]!
    }
  }

  /** dx += rmsnorm backward of dout; dw accumulated. */
  rmsnormBack(dx: Float32Array, dout: Float32Array, x: Float32Array, rstd: Float32Array, p: Param) {
    const d = this.cfg.dim
    const w = this.view(p)
    const dw = this.view(p, this.g)
    for (let i = 0; i < this.BT; i++) {
      const r = rstd[i]!
      let dot = 0
      for (let j = 0; j < d; j++) {
        dot += dout[i * d + j]! * w[j]! * x[i * d + j]!
        dw[j]! += dout[i * d + j]! * x[i * d + j]! * r
      }
      const c = (dot * r * r * r) / d
      for (let j = 0; j < d; j++) dx[i * d + j]! += dout[i * d + j]! * w[j]! * r - x[i * d + j]! * c
    }
  }

  /** Rotates adjacent pairs within each head by +angle (sign 1) or -angle (sign -1). */
  rope(x: Float32Array, sign: number): void {
    const { dim, nHeads, seqLen: T } = this.cfg
    const hd = dim / nHeads
    for (let i = 0; i < this.BT; i++) {
      const t = i % T
      for (let h = 0; h < nHeads; h++)
        for (let j = 0; j < hd / 2; j++) {
          const c = this.cos[(t * hd) / 2 + j]!
          const s = sign * this.sin[(t * hd) / 2 + j]!
          const o = i * dim + h * hd + 2 * j
          const x0 = x[o]!
          const x1 = x[o + 1]!
          x[o] = x0 * c - x1 * s
          x[o + 1] = x0 * s + x1 * c
        }
    }
  }

  /** Copies head h of sequence b out of x (BT, dim) into out (T, hd), or its transpose (hd, T). */
  gather(out: Float32Array, x: Float32Array, b: number, h: number, transposed: boolean): void {
    const { dim, nHeads, seqLen: T } = this.cfg
    const hd = dim / nHeads
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * dim + h * hd
      if (transposed) for (let j = 0; j < hd; j++) out[j * T + t] = x[o + j]!
      else for (let j = 0; j < hd; j++) out[t * hd + j] = x[o + j]!
    }
  }

  scatter(x: Float32Array, src: Float32Array, b: number, h: number): void {
    const { dim, nHeads, seqLen: T } = this.cfg
    const hd = dim / nHeads
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * dim + h * hd
      for (let j = 0; j < hd; j++) x[o + j] = src[t * hd + j]!
    }
  }

  /** Mean cross-entropy over the batch; leaves probabilities in `logits`. */
  forward(): number {
    const { dim, ffnDim, vocabSize: V, seqLen: T, batch: B, nHeads, nLayers } = this.cfg
    const hd = dim / nHeads
    const BT = this.BT
    const a = this.arena
    const scale = 1 / Math.sqrt(hd)
    // --- embedding
    const embd = this.view(this.L.embd)
    const x0 = this.xs[0]!
    for (let i = 0; i < BT; i++)
      x0.set(embd.subarray(this.tokens[i]! * dim, (this.tokens[i]! + 1) * dim), i * dim)
    for (let l = 0; l < nLayers; l++) {
      const P = this.L.layers[l]!
      const x = this.xs[l]!
      // --- attention
      this.rmsnorm(this.n1[l]!, this.rstd1[l]!, x, P.attnNorm)
      this.linear(this.q[l]!, this.n1[l]!, P.wq)
      this.linear(this.k[l]!, this.n1[l]!, P.wk)
      this.linear(this.vv[l]!, this.n1[l]!, P.wv)
      this.rope(this.q[l]!, 1)
      this.rope(this.k[l]!, 1)
      for (let b = 0; b < B; b++)
        for (let h = 0; h < nHeads; h++) {
          const att = this.att[l]!.subarray((b * nHeads + h) * T * T, (b * nHeads + h + 1) * T * T)
          this.gather(this.qh, this.q[l]!, b, h, false)
          this.gather(this.kht, this.k[l]!, b, h, true)
          this.gather(this.vh, this.vv[l]!, b, h, false)
          a.matmul(att, this.qh, this.kht, T, T, hd, false)
          for (let t = 0; t < T; t++) {
            const row = t * T
            let max = -Infinity
            for (let u = 0; u <= t; u++) max = Math.max(max, att[row + u]! * scale)
            let sum = 0
            for (let u = 0; u <= t; u++) {
              const e = Math.exp(att[row + u]! * scale - max)
              att[row + u] = e
              sum += e
            }
            for (let u = 0; u <= t; u++) att[row + u]! /= sum
            for (let u = t + 1; u < T; u++) att[row + u] = 0
          }
          a.matmul(this.oh, att, this.vh, T, hd, T, false)
          this.scatter(this.ao[l]!, this.oh, b, h)
        }
      const xm = this.xmid[l]!
      this.linear(xm, this.ao[l]!, P.wo)
      for (let i = 0; i < BT * dim; i++) xm[i]! += x[i]!
      // --- feed-forward
      this.rmsnorm(this.n2[l]!, this.rstd2[l]!, xm, P.ffnNorm)
      this.linear(this.gate[l]!, this.n2[l]!, P.w1)
      this.linear(this.up[l]!, this.n2[l]!, P.w3)
      const g = this.gate[l]!
      const u = this.up[l]!
      const hh = this.hh[l]!
      for (let i = 0; i < BT * ffnDim; i++) hh[i] = (g[i]! / (1 + Math.exp(-g[i]!))) * u[i]!
      const xn = this.xs[l + 1]!
      this.linear(xn, hh, P.w2)
      for (let i = 0; i < BT * dim; i++) xn[i]! += xm[i]!
    }
    // --- output
    this.rmsnorm(this.nf, this.rstdf, this.xs[nLayers]!, this.L.outNorm)
    this.linear(this.logits, this.nf, this.L.output)
    let loss = 0
    let count = 0
    const lg = this.logits
    for (let i = 0; i < BT; i++) {
      const o = i * V
      let max = -Infinity
      for (let j = 0; j < V; j++) max = Math.max(max, lg[o + j]!)
      let sum = 0
      for (let j = 0; j < V; j++) {
        const e = Math.exp(lg[o + j]! - max)
        lg[o + j] = e
        sum += e
      }
      for (let j = 0; j < V; j++) lg[o + j]! /= sum
      if (this.targets[i]! < 0) continue // padding (evaluation only)
      loss -= Math.log(lg[o + this.targets[i]!]!)
      count++
    }
    this.lastCount = count
    return loss / count
  }

  /** Gradients of the mean loss of the last forward(), accumulated into g. */
  backward(): void {
    const { dim, ffnDim, vocabSize: V, seqLen: T, batch: B, nHeads, nLayers } = this.cfg
    const hd = dim / nHeads
    const BT = this.BT
    const a = this.arena
    const scale = 1 / Math.sqrt(hd)
    // --- output: dlogits = (p - onehot) / BT, in place
    const lg = this.logits
    for (let i = 0; i < BT; i++) lg[i * V + this.targets[i]!]! -= 1
    for (let i = 0; i < BT * V; i++) lg[i]! /= BT
    this.linearBack(this.dn, lg, this.nf, this.L.output, false)
    this.dx.fill(0)
    this.rmsnormBack(this.dx, this.dn, this.xs[nLayers]!, this.rstdf, this.L.outNorm)
    for (let l = nLayers - 1; l >= 0; l--) {
      const P = this.L.layers[l]!
      // --- feed-forward (dx is the gradient of xs[l + 1])
      this.linearBack(this.dh, this.dx, this.hh[l]!, P.w2, false)
      const g = this.gate[l]!
      const u = this.up[l]!
      for (let i = 0; i < BT * ffnDim; i++) {
        const s = 1 / (1 + Math.exp(-g[i]!))
        const dh = this.dh[i]!
        this.dup[i] = dh * g[i]! * s
        this.dgate[i] = dh * u[i]! * s * (1 + g[i]! * (1 - s))
      }
      this.linearBack(this.dn, this.dgate, this.n2[l]!, P.w1, false)
      this.linearBack(this.dn, this.dup, this.n2[l]!, P.w3, true)
      this.dmid.set(this.dx)
      this.rmsnormBack(this.dmid, this.dn, this.xmid[l]!, this.rstd2[l]!, P.ffnNorm)
      // --- attention (dmid is the gradient of xmid[l])
      this.linearBack(this.dao, this.dmid, this.ao[l]!, P.wo, false)
      for (let b = 0; b < B; b++)
        for (let h = 0; h < nHeads; h++) {
          const att = this.att[l]!.subarray((b * nHeads + h) * T * T, (b * nHeads + h + 1) * T * T)
          this.gather(this.doh, this.dao, b, h, false)
          this.gather(this.vht, this.vv[l]!, b, h, true)
          this.gather(this.qh, this.q[l]!, b, h, false)
          this.gather(this.kh, this.k[l]!, b, h, false)
          const dp = this.dp
          a.matmul(dp, this.doh, this.vht, T, T, hd, false)
          a.matmul(this.dvh, att, this.doh, T, hd, T, false, 1, T)
          for (let t = 0; t < T; t++) {
            const row = t * T
            let dot = 0
            for (let s = 0; s <= t; s++) dot += dp[row + s]! * att[row + s]!
            for (let s = 0; s <= t; s++) dp[row + s] = att[row + s]! * (dp[row + s]! - dot) * scale
            for (let s = t + 1; s < T; s++) dp[row + s] = 0
          }
          a.matmul(this.dqh, dp, this.kh, T, hd, T, false)
          a.matmul(this.dkh, dp, this.qh, T, hd, T, false, 1, T)
          this.scatter(this.dq, this.dqh, b, h)
          this.scatter(this.dk, this.dkh, b, h)
          this.scatter(this.dv, this.dvh, b, h)
        }
      this.rope(this.dq, -1)
      this.rope(this.dk, -1)
      this.linearBack(this.dn, this.dq, this.n1[l]!, P.wq, false)
      this.linearBack(this.dn, this.dk, this.n1[l]!, P.wk, true)
      this.linearBack(this.dn, this.dv, this.n1[l]!, P.wv, true)
      this.dx.set(this.dmid)
      this.rmsnormBack(this.dx, this.dn, this.xs[l]!, this.rstd1[l]!, P.attnNorm)
    }
    // --- embedding
    const dE = this.view(this.L.embd, this.g)
    for (let i = 0; i < BT; i++) {
      const o = this.tokens[i]! * dim
      for (let j = 0; j < dim; j++) dE[o + j]! += this.dx[i * dim + j]!
    }
  }

  /** AdamW with decoupled weight decay on matrices; returns the gradient norm before clipping. */
  update(step: number): { norm: number; lr: number } {
    const c = this.cfg
    let ss = 0
    for (let i = 0; i < this.g.length; i++) ss += this.g[i]! * this.g[i]!
    const norm = Math.sqrt(ss)
    const clip = norm > c.clip ? c.clip / norm : 1
    const lr = learningRate(step)
    const b1c = 1 - c.beta1 ** (step + 1)
    const b2c = 1 - c.beta2 ** (step + 1)
    for (const p of this.L.params) {
      const end = p.offset + p.rows * p.cols
      const wd = p.decay ? c.weightDecay : 0
      for (let i = p.offset; i < end; i++) {
        const gi = this.g[i]! * clip
        const m = c.beta1 * this.m[i]! + (1 - c.beta1) * gi
        const v = c.beta2 * this.v[i]! + (1 - c.beta2) * gi * gi
        this.m[i] = m
        this.v[i] = v
        this.w[i]! -= lr * (m / b1c / (Math.sqrt(v / b2c) + 1e-8) + wd * this.w[i]!)
      }
    }
    return { norm, lr }
  }
}

function learningRate(step: number): number {
  const c = CONFIG
  if (step < c.warmup) return (c.lr * (step + 1)) / c.warmup
  const t = (step - c.warmup) / Math.max(1, c.steps - c.warmup)
  return c.lr * (c.minLrFrac + (1 - c.minLrFrac) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t))))
}

// --- data ----------------------------------------------------------------------------------

/** Fills one row: BOS, then whole verses from `start` on (wrapping), T + 1 tokens in all. */
function fillRow(
  tokens: Int32Array,
  targets: Int32Array,
  row: number,
  verses: number[][],
  start: number,
) {
  const T = CONFIG.seqLen
  const seq = [BOS]
  for (let v = start; seq.length < T + 1; v = (v + 1) % verses.length) seq.push(...verses[v]!)
  for (let t = 0; t < T; t++) {
    tokens[row * T + t] = seq[t]!
    targets[row * T + t] = seq[t + 1]!
  }
}

// --- GGUF ------------------------------------------------------------------------------------

function ggufBytes(tr: Trainer, vocab: ReturnType<typeof buildLlamaVocab>): Uint8Array {
  const c = tr.cfg
  const tensors: GgufWriteSpec['tensors'] = tr.L.params.map((p) => ({
    name: p.name,
    dims: p.rows === 1 ? [p.cols] : [p.cols, p.rows],
    type: GgmlType.F32,
    data: Float32Array.from(tr.view(p)),
  }))
  const metadata: Array<[string, GgufWriteValue]> = [
    ['general.architecture', gguf.string('llama')],
    ['general.name', gguf.string(MODEL_NAME)],
    ['general.file_type', gguf.u32(0)],
    ['general.license', gguf.string('public-domain')],
    ['llama.vocab_size', gguf.u32(c.vocabSize)],
    ['llama.context_length', gguf.u32(c.seqLen)],
    ['llama.embedding_length', gguf.u32(c.dim)],
    ['llama.block_count', gguf.u32(c.nLayers)],
    ['llama.feed_forward_length', gguf.u32(c.ffnDim)],
    ['llama.rope.dimension_count', gguf.u32(c.dim / c.nHeads)],
    ['llama.attention.head_count', gguf.u32(c.nHeads)],
    ['llama.attention.head_count_kv', gguf.u32(c.nHeads)],
    ['llama.attention.layer_norm_rms_epsilon', gguf.f32(c.normEps)],
    ['llama.rope.freq_base', gguf.f32(c.ropeTheta)],
    ...vocab.map(([k, v]) => [k, v as GgufWriteValue] as [string, GgufWriteValue]),
    ['tokenizer.chat_template', gguf.string(CHAT_TEMPLATE)],
  ]
  return writeGguf({ metadata, tensors })
}

/** The fine-tune's output: the source's metadata, the trained weights as F32. */
function fineTunedBytes(tr: Trainer, source: ReturnType<typeof readGguf>): Uint8Array {
  const name = args.includes('--name') ? option('name', '') : undefined
  return writeGguf({
    metadata: fineTunedMetadata(source, name),
    tensors: tr.L.params.map((p) =>
      f32Tensor(p.name, p.rows, p.cols, Float32Array.from(tr.view(p))),
    ),
  })
}

/** The source's weights (dequantized to F32) into the trainer, each checked against its shape. */
function loadSourceWeights(tr: Trainer, source: ReturnType<typeof readGguf>): void {
  for (const p of tr.L.params) {
    const info = source.tensors.find((t) => t.name === p.name)!
    const want = p.rows === 1 ? [p.cols] : [p.cols, p.rows]
    if (info.dims.join() !== want.join())
      throw new UnsupportedGgufError(
        `tensor '${p.name}' has shape [${info.dims}], the config implies [${want}]`,
      )
    tr.view(p).set(sourceTensor(source, p.name))
  }
}

// --- main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const c = CONFIG
  const t0 = performance.now()
  let train: string[]
  let heldOut: string[]
  let vocab: ReturnType<typeof buildLlamaVocab> = []
  let tok: ReturnType<typeof tokenizerFromGguf>
  if (SOURCE) {
    // fine-tuning: the source's own tokenizer, one training unit per non-empty line
    const lines = (path: string) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .map((l) => l.replace(/\r$/, ''))
        .filter((l) => l.length > 0)
    train = lines(option('data', ''))
    heldOut = args.includes('--held-out') ? lines(option('held-out', '')) : []
    tok = tokenizerFromGguf(SOURCE.file.metadata)
    if (tok.bosId === undefined) throw new UnsupportedGgufError('the tokenizer has no BOS token')
    if (tok.vocabSize > c.vocabSize)
      throw new UnsupportedGgufError(
        `the tokenizer has ${tok.vocabSize} tokens, the embedding ${c.vocabSize} rows`,
      )
    if (c.seqLen > SOURCE.config.contextLength || c.seqLen % 8)
      throw new UnsupportedGgufError(
        `--seq ${c.seqLen} must be a multiple of 8 within the context of ${SOURCE.config.contextLength}`,
      )
    BOS = tok.bosId
  } else {
    ;({ train, heldOut } = splitVerses(kjvVerses(), c.heldOutEvery))
    const pieces = trainSpmBpe(train.join('\n'), c.vocabSize)
    vocab = buildLlamaVocab(pieces)
    tok = tokenizerFromGguf(metadataFromEntries(vocab))
  }
  const encode = (v: string) => tok.encode(v, { addBos: false, addEos: false })
  const trainIds = train.map(encode).filter((ids) => ids.length > 0)
  const heldIds = heldOut.map(encode).filter((ids) => ids.length > 0)
  if (trainIds.length === 0) throw new Error('no training text: --data has no tokens')
  const nTrain = trainIds.reduce((s, v) => s + v.length, 0)
  const nHeld = heldIds.reduce((s, v) => s + v.length, 0)
  console.log(
    `corpus: ${train.length} train verses (${nTrain} tokens), ${heldOut.length} held out (${nHeld} tokens); vocab ${tok.vocabSize}; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  )

  const tr = new Trainer()
  await tr.arena.init()
  console.log(`parameters: ${tr.L.count}; arena ${((tr.arena.used * 4) / 2 ** 20).toFixed(0)} MiB`)
  tr.tokens = new Int32Array(tr.BT)
  tr.targets = new Int32Array(tr.BT)

  if (args.includes('--evaluate')) {
    // held-out loss of the written model over every held-out verse, in float32
    const file = readGguf(readFileSync(OUT))
    for (const p of tr.L.params) tr.view(p).set(tensorToFloat32(file, tensorByName(file, p.name)))
    const T = c.seqLen
    const windows = heldOutWindows(heldIds, T + 1)
    let nll = 0
    let count = 0
    for (let i = 0; i < windows.length; i += c.batch) {
      tr.tokens.fill(0)
      tr.targets.fill(-1)
      for (let b = 0; b < c.batch && i + b < windows.length; b++) {
        const w = windows[i + b]!
        for (let t = 0; t + 1 < w.length; t++) {
          tr.tokens[b * T + t] = w[t]!
          tr.targets[b * T + t] = w[t + 1]!
        }
      }
      const loss = tr.forward()
      nll += loss * tr.lastCount
      count += tr.lastCount
      if (i === 0)
        console.log(`first ${c.batch} windows: loss ${loss.toFixed(4)} over ${tr.lastCount} tokens`)
    }
    const loss = nll / count
    console.log(
      JSON.stringify({
        heldOutWindows: windows.length,
        heldOutTokens: count,
        heldOutLoss: loss,
        heldOutPerplexity: Math.exp(loss),
      }),
    )
    return
  }

  if (args.includes('--gradcheck')) {
    // directional finite differences per tensor, along the sign of the analytic gradient
    tr.initWeights(c.seed)
    for (let i = 0; i < tr.w.length; i++) tr.w[i]! += 0.05 * Math.sin(i)
    const prng = new Prng(1)
    for (let b = 0; b < c.batch; b++)
      fillRow(tr.tokens, tr.targets, b, trainIds, prng.below(trainIds.length))
    tr.forward()
    tr.g.fill(0)
    tr.backward()
    const g = Float32Array.from(tr.g)
    for (const p of tr.L.params) {
      const w = tr.view(p)
      const gv = g.subarray(p.offset, p.offset + w.length)
      const saved = Float32Array.from(w)
      const eps = 1e-3
      let analytic = 0
      for (let i = 0; i < w.length; i++) analytic += Math.abs(gv[i]!)
      for (let i = 0; i < w.length; i++) w[i] = saved[i]! + eps * Math.sign(gv[i]!)
      const lp = tr.forward()
      for (let i = 0; i < w.length; i++) w[i] = saved[i]! - eps * Math.sign(gv[i]!)
      const lm = tr.forward()
      w.set(saved)
      const numeric = (lp - lm) / (2 * eps)
      console.log(
        `${p.name}: analytic ${analytic.toExponential(4)} numeric ${numeric.toExponential(4)} ratio ${(numeric / analytic).toFixed(4)}`,
      )
    }
    return
  }

  if (BENCH) {
    tr.initWeights(c.seed)
    const prng = new Prng(1)
    for (let b = 0; b < c.batch; b++)
      fillRow(tr.tokens, tr.targets, b, trainIds, prng.below(trainIds.length))
    for (let i = 0; i < 3; i++) {
      const s = performance.now()
      const loss = tr.forward()
      const f = performance.now()
      tr.g.fill(0)
      tr.backward()
      const e = performance.now()
      console.log(
        `loss ${loss.toFixed(4)} forward ${(f - s).toFixed(0)} ms backward ${(e - f).toFixed(0)} ms; ${((tr.BT / (e - s)) * 1000).toFixed(0)} tok/s`,
      )
    }
    return
  }

  // held-out evaluation rows: fixed, from consecutive held-out verses
  const evalRows: number[] = []
  for (let i = 0; i < c.evalSeqs; i++) evalRows.push(Math.floor((i * heldIds.length) / c.evalSeqs))
  const evaluate = (): number | undefined => {
    if (heldIds.length === 0) return undefined
    let sum = 0
    for (let i = 0; i < evalRows.length; i += c.batch) {
      for (let b = 0; b < c.batch; b++)
        fillRow(tr.tokens, tr.targets, b, heldIds, evalRows[(i + b) % evalRows.length]!)
      sum += tr.forward()
    }
    return sum / Math.ceil(evalRows.length / c.batch)
  }

  mkdirSync(join(root, 'models'), { recursive: true })
  let step = 0
  if (args.includes('--resume') && existsSync(CKPT)) {
    const buf = readFileSync(CKPT)
    const f = new Float32Array(buf.buffer, buf.byteOffset + 8, tr.L.count * 3)
    step = buf.readUInt32LE(0)
    tr.w.set(f.subarray(0, tr.L.count))
    tr.m.set(f.subarray(tr.L.count, 2 * tr.L.count))
    tr.v.set(f.subarray(2 * tr.L.count))
    console.log(`resumed at step ${step}`)
  } else if (SOURCE) {
    loadSourceWeights(tr, SOURCE.file)
    writeFileSync(
      LOG,
      `${JSON.stringify({ from: option('from', ''), data: option('data', ''), config: c, parameters: tr.L.count, trainTokens: nTrain, heldOutTokens: nHeld })}\n`,
    )
  } else {
    tr.initWeights(c.seed)
    writeFileSync(
      LOG,
      `${JSON.stringify({ config: c, parameters: tr.L.count, trainTokens: nTrain, heldOutTokens: nHeld })}\n`,
    )
  }
  const save = () => {
    if (SOURCE) {
      writeFileSync(OUT, fineTunedBytes(tr, SOURCE.file))
      return
    }
    writeFileSync(OUT, ggufBytes(tr, vocab))
    const head = Buffer.alloc(8)
    head.writeUInt32LE(step, 0)
    const body = Buffer.alloc(tr.L.count * 12)
    const f = new Float32Array(body.buffer, body.byteOffset, tr.L.count * 3)
    f.set(tr.w, 0)
    f.set(tr.m, tr.L.count)
    f.set(tr.v, 2 * tr.L.count)
    writeFileSync(CKPT, Buffer.concat([head, body]))
  }

  const start = performance.now()
  const log = (entry: object) => writeFileSync(LOG, `${JSON.stringify(entry)}\n`, { flag: 'a' })
  for (; step < c.steps; step++) {
    // the batch of a step depends only on (seed, step), so a resumed run sees the same data
    const prng = new Prng(c.seed * 7919 + step)
    for (let b = 0; b < c.batch; b++)
      fillRow(tr.tokens, tr.targets, b, trainIds, prng.below(trainIds.length))
    const s = performance.now()
    const loss = tr.forward()
    tr.g.fill(0)
    tr.backward()
    const { norm, lr } = tr.update(step)
    const ms = performance.now() - s
    const entry: Record<string, number> = { step: step + 1, loss, lr, norm, ms: Math.round(ms) }
    if ((step + 1) % c.evalEvery === 0 || step + 1 === c.steps) {
      const heldOutLoss = evaluate()
      if (heldOutLoss !== undefined) entry.heldOut = heldOutLoss
    }
    log(entry)
    console.log(
      `step ${step + 1}/${c.steps} loss ${loss.toFixed(4)}${entry.heldOut ? ` held-out ${entry.heldOut.toFixed(4)}` : ''} lr ${lr.toExponential(2)} norm ${norm.toFixed(3)} ${ms.toFixed(0)} ms (${((tr.BT / ms) * 1000).toFixed(0)} tok/s, ${((performance.now() - start) / 60000).toFixed(1)} min)`,
    )
    if ((step + 1) % c.ckptEvery === 0 || step + 1 === c.steps) {
      step++
      save()
      step--
    }
  }
  console.log(`done: ${c.steps} steps, ${c.steps * tr.BT} tokens, wrote ${OUT}`)
}

await main()
