const encoder = new TextEncoder()
// ignoreBOM: a leading U+FEFF is text like any other and must survive a round trip.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

/** UTF-8 bytes of `text`; lone surrogates become U+FFFD (EF BF BD), as the Encoding Standard says. */
export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Text of UTF-8 `bytes`; invalid sequences become U+FFFD (Encoding Standard replacement rules). */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

/** Concatenates byte chunks into one array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const chunk of chunks) length += chunk.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}
