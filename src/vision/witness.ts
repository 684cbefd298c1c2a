import { readFileSync } from 'node:fs'
import * as snarkjs from 'snarkjs'

/** Field of BN254's scalar: the circuit's signals live here (negative v is p - |v|). */
export const FIELD_P =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n

/** Signal name -> witness index, from circom's .sym file (signals optimized away are left out). */
export function readSymbols(symFile: string): Map<string, number> {
  const map = new Map<string, number>()
  for (const line of readFileSync(symFile, 'utf8').split('\n')) {
    const [, wire, , name] = line.split(',')
    if (name !== undefined && Number(wire) >= 0) map.set(name, Number(wire))
  }
  return map
}

/** A witness in snarkjs's in-memory .wtns form. */
export type MemWitness = { type: 'mem'; data?: Uint8Array }

export async function calculateWitness(
  wasm: string,
  input: Record<string, unknown>,
): Promise<{ file: MemWitness; values: bigint[] }> {
  const file: MemWitness = { type: 'mem' }
  await snarkjs.wtns.calculate(input, wasm, file)
  return { file, values: await snarkjs.wtns.exportJson(file) }
}

/** Signed reading of a field element whose absolute value is small. */
export function signedFromField(v: bigint): number {
  return Number(v > FIELD_P / 2n ? v - FIELD_P : v)
}

// .wtns v2: "wtns", version, nSections; section 1 (type, size, n8 = 32, prime, nWitness);
// section 2 (type, size, values of n8 bytes, little-endian)
const WITNESS_OFFSET = 4 + 4 + 4 + (4 + 8 + 4 + 32 + 4) + (4 + 8)

/** A copy of the witness with the given wires overwritten (for forgery tests and fault injection). */
export function overwriteWitness(file: MemWitness, changes: Map<number, bigint>): MemWitness {
  const data = new Uint8Array(file.data as Uint8Array)
  for (const [wire, value] of changes) {
    let v = ((value % FIELD_P) + FIELD_P) % FIELD_P
    for (let b = 0; b < 32; b++) {
      data[WITNESS_OFFSET + 32 * wire + b] = Number(v & 0xffn)
      v >>= 8n
    }
  }
  return { type: 'mem', data }
}
