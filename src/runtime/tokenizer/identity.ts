import { sha256 } from '@noble/hashes/sha2.js'
import { readVocab, type Vocab } from './metadata.ts'

/**
 * The chat template used when a model's GGUF has none: ChatML, as Qwen and many fine-tunes use it.
 * Each message becomes `<|im_start|>{role}\n{content}<|im_end|>\n`, and the generation prompt is
 * `<|im_start|>assistant\n`. It is part of such a model's identity (see `tokenizerIdentity`).
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

/** The template a model's chat requests are rendered with: the file's, else the default. */
export function effectiveChatTemplate(vocab: Pick<Vocab, 'chatTemplate'>): string {
  return vocab.chatTemplate ?? DEFAULT_CHAT_TEMPLATE
}

const TAG = 'verity/tokenizer/v1'
const NO_TOKENIZER = 'verity/tokenizer/none'

/**
 * sha256 of everything that turns chat messages into prompt tokens and output tokens into text:
 * the normalised vocabulary (kind, tokens, scores, types, special ids, add-bos/eos/space flags,
 * merges, pre-tokenizer name) and the effective chat template. It is hashed into modelRoot's
 * config leaf, so a receipt's modelRoot names the tokenizer and template too: stop strings and
 * the text a client is shown depend on them. A file without tokenizer metadata gets a fixed tag.
 *
 * Layout (big-endian): tag, u8 kind (0 llama, 1 gpt2), u32 n, n × (u32 len, utf8 token), n × f64
 * score, n × u8 type, 4 × i32 (bos, eos, unk, pad; -1 = none), 3 × u8 (addBos, addEos,
 * addSpacePrefix), u32 m, m × (u32 len, utf8 merge), u8 hasPre (+ u32 len, utf8 pre), u32 len,
 * utf8 template.
 */
export function tokenizerIdentity(metadata: ReadonlyMap<string, unknown>): Uint8Array {
  if (!metadata.has('tokenizer.ggml.model')) return sha256(new TextEncoder().encode(NO_TOKENIZER))
  return sha256(encodeVocab(readVocab(metadata)))
}

function encodeVocab(vocab: Vocab): Uint8Array {
  const out = new ByteWriter()
  out.text(TAG)
  out.u8(vocab.kind === 'llama' ? 0 : 1)
  out.u32(vocab.tokens.length)
  for (const t of vocab.tokens) out.text(t)
  for (const s of vocab.scores) out.f64(s)
  out.bytes(vocab.types)
  for (const id of [vocab.bosId, vocab.eosId, vocab.unknownId, vocab.paddingId]) out.i32(id ?? -1)
  out.u8(vocab.addBos ? 1 : 0)
  out.u8(vocab.addEos ? 1 : 0)
  out.u8(vocab.addSpacePrefix ? 1 : 0)
  out.u32(vocab.merges.length)
  for (const m of vocab.merges) out.text(m)
  out.u8(vocab.pre === undefined ? 0 : 1)
  if (vocab.pre !== undefined) out.text(vocab.pre)
  out.text(effectiveChatTemplate(vocab))
  return out.finish()
}

/** A growable big-endian byte buffer. */
class ByteWriter {
  private buf = new Uint8Array(1 << 16)
  private view = new DataView(this.buf.buffer)
  private at = 0
  private readonly encoder = new TextEncoder()

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + n))
    grown.set(this.buf.subarray(0, this.at))
    this.buf = grown
    this.view = new DataView(grown.buffer)
  }
  u8(v: number): void {
    this.room(1)
    this.view.setUint8(this.at, v)
    this.at += 1
  }
  u32(v: number): void {
    this.room(4)
    this.view.setUint32(this.at, v)
    this.at += 4
  }
  i32(v: number): void {
    this.room(4)
    this.view.setInt32(this.at, v)
    this.at += 4
  }
  f64(v: number): void {
    this.room(8)
    this.view.setFloat64(this.at, v)
    this.at += 8
  }
  bytes(b: Uint8Array): void {
    this.room(b.length)
    this.buf.set(b, this.at)
    this.at += b.length
  }
  text(s: string): void {
    const b = this.encoder.encode(s)
    this.u32(b.length)
    this.bytes(b)
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.at)
  }
}
