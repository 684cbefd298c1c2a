// The part of circom_runtime (untyped; snarkjs 0.7.6 pins 0.1.28 and uses it for wtns.calculate)
// that the two-layer circuit test calls: one compiled witness calculator for many witnesses.
declare module 'circom_runtime' {
  export type WitnessCalculator = {
    calculateWitness(input: Record<string, unknown>, sanityCheck?: boolean): Promise<bigint[]>
  }
  export function WitnessCalculatorBuilder(wasm: Uint8Array): Promise<WitnessCalculator>
}
