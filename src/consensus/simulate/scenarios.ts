import type { Simulation, SimValidator } from './types.ts'

const base = {
  epochs: 40,
  tempo: 100,
  params: { yuma3: true, liquidAlpha: true, commitReveal: false },
  emissionPerEpoch: 1_000_000_000n,
}
const honest3: SimValidator[] = [
  { name: 'honest-a', stake: 30, strategy: { kind: 'honest' } },
  { name: 'honest-b', stake: 25, strategy: { kind: 'honest' } },
  { name: 'honest-c', stake: 20, strategy: { kind: 'honest' } },
]
const miners4 = [{ name: 'miner-0' }, { name: 'miner-1' }, { name: 'miner-2' }, { name: 'miner-3' }]

function collusion(name: string, colluderStake: number, note: string): Simulation {
  return {
    ...base,
    name,
    description: `Colluders holding ${colluderStake}% of the stake weight only their own miner; ${note}.`,
    validators: [
      { name: 'honest-a', stake: (100 - colluderStake) / 2, strategy: { kind: 'honest' } },
      { name: 'honest-b', stake: (100 - colluderStake) / 2, strategy: { kind: 'honest' } },
      { name: 'colluder-a', stake: colluderStake / 2, strategy: { kind: 'colluder' } },
      { name: 'colluder-b', stake: colluderStake / 2, strategy: { kind: 'colluder' } },
    ],
    miners: [...miners4, { name: 'colluding-miner', colluding: true }],
    quality: { kind: 'rotate' },
  }
}

/** The built-in adversarial scenarios of `verity yuma simulate`. */
export const SIMULATIONS: Record<string, Simulation> = {
  'weight-copying': {
    ...base,
    name: 'weight-copying',
    description: 'A copier (25% stake) copies the others’ public weights; no commit-reveal.',
    validators: [...honest3, { name: 'copier', stake: 25, strategy: { kind: 'copier' } }],
    miners: miners4,
    quality: { kind: 'rotate' },
  },
  'weight-copying-cr': {
    ...base,
    name: 'weight-copying-cr',
    params: { ...base.params, commitReveal: true },
    description: 'The same copier with commit-reveal: it only sees weights one epoch late.',
    validators: [...honest3, { name: 'copier', stake: 25, strategy: { kind: 'copier' } }],
    miners: miners4,
    quality: { kind: 'rotate' },
  },
  'collusion-below-kappa': collusion('collusion-below-kappa', 40, 'below kappa they are clipped'),
  'collusion-above-kappa': collusion('collusion-above-kappa', 60, 'above kappa they set consensus'),
  'lazy-validator': {
    ...base,
    name: 'lazy-validator',
    params: { ...base.params, activityCutoff: 1000 },
    description: 'A validator sets weights once and stops; it goes stale, then inactive.',
    validators: [...honest3, { name: 'lazy', stake: 25, strategy: { kind: 'lazy' } }],
    miners: miners4,
    quality: { kind: 'rotate' },
  },
  'late-switch': {
    ...base,
    name: 'late-switch',
    description:
      'Miner 1 replaces miner 0 as the best at epoch 10; one validator follows 8 epochs late.',
    validators: [...honest3, { name: 'late', stake: 25, strategy: { kind: 'late', delay: 8 } }],
    miners: miners4,
    quality: { kind: 'switch', from: 0, to: 1, at: 10 },
  },
}
