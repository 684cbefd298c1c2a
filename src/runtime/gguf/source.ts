/**
 * Where a GGUF file's bytes come from. The runtime stays pure: it never opens files, it asks a
 * source for byte ranges. An in-memory file is `bytesSource(bytes)`; a file on disk is read chunk
 * by chunk through a source built outside the runtime (src/cli/model-file.ts), so no file is
 * ever held whole in memory and files over 2 GiB load.
 */
export interface ByteSource {
  /** The file's length in bytes. */
  readonly size: number
  /**
   * Bytes [offset, offset + length). The returned array may be a view of a buffer the source
   * reuses: it is valid until the next call.
   */
  read(offset: number, length: number): Uint8Array
}

/** A source over bytes already in memory (tests, the default model, files the project writes). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + length),
  }
}

/** `input` as a source: bytes are wrapped, a source is returned as is. */
export function toSource(input: Uint8Array | ByteSource): ByteSource {
  return input instanceof Uint8Array ? bytesSource(input) : input
}
