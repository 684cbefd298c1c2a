/**
 * GPT-2's byte ↔ unicode table: printable bytes map to themselves, the other 68 to U+0100.. in
 * order, so every byte is one visible character and merges never see whitespace or controls.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table: string[] = []
  let extra = 0
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae
    table.push(String.fromCharCode(printable ? b : 256 + extra++))
  }
  return table
})()

/** Inverse of BYTE_TO_CHAR, keyed by UTF-16 code unit (all mapped characters are in the BMP). */
export const CHAR_TO_BYTE: ReadonlyMap<number, number> = new Map(
  BYTE_TO_CHAR.map((c, b) => [c.charCodeAt(0), b]),
)
