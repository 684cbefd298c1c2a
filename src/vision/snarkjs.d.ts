// The parts of snarkjs 0.7 (untyped) that Verity calls.
declare module 'snarkjs' {
  export type Groth16Proof = {
    pi_a: string[]
    pi_b: string[][]
    pi_c: string[]
    protocol: string
    curve: string
  }
  export type VerificationKey = {
    protocol: string
    curve: string
    nPublic: number
    vk_alpha_1: string[]
    vk_beta_2: string[][]
    vk_gamma_2: string[][]
    vk_delta_2: string[][]
    vk_alphabeta_12: unknown
    IC: string[][]
  }
  type Logger = {
    info(...a: unknown[]): void
    debug(...a: unknown[]): void
    error(...a: unknown[]): void
    warn(...a: unknown[]): void
  }
  export const groth16: {
    fullProve(
      input: Record<string, unknown>,
      wasm: string | Uint8Array,
      zkey: string | Uint8Array,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>
    prove(
      zkey: string | Uint8Array,
      witness: string | Uint8Array | { type: 'mem'; data?: Uint8Array },
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>
    verify(
      vkey: VerificationKey,
      publicSignals: string[],
      proof: Groth16Proof,
      logger?: Logger,
    ): Promise<boolean>
  }
  export const wtns: {
    calculate(
      input: Record<string, unknown>,
      wasm: string | Uint8Array,
      out: string | { type: 'mem'; data?: Uint8Array },
    ): Promise<void>
    check(
      r1cs: string,
      wtns: string | { type: 'mem'; data?: Uint8Array },
      logger?: Logger,
    ): Promise<boolean>
    exportJson(wtns: string | { type: 'mem'; data?: Uint8Array }): Promise<bigint[]>
  }
  export const r1cs: {
    info(
      file: string,
      logger?: Logger,
    ): Promise<{
      nConstraints: number
      nVars: number
      nPubInputs: number
      nOutputs: number
      nPrvInputs: number
      nLabels: number
    }>
  }
  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>
    beacon(
      old: string,
      next: string,
      name: string,
      beaconHash: string,
      iterationsExp: number,
      logger?: Logger,
    ): Promise<unknown>
    exportVerificationKey(zkey: string | Uint8Array): Promise<VerificationKey>
    exportSolidityVerifier(zkey: string, templates: { groth16: string }): Promise<string>
  }
}
