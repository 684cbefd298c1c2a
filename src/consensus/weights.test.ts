import { describe, expect, it } from 'vitest'
import { isMaxLimited, maxUpscaleToU16, storeWeights } from './weights.ts'

describe('weight storage (vec_u16_max_upscale_to_u16)', () => {
  it('upscales so the maximum becomes 65535', () => {
    expect(maxUpscaleToU16([16383, 32767, 49149, 65535])).toEqual([16383, 32767, 49149, 65535])
    expect(maxUpscaleToU16([127, 127])).toEqual([65535, 65535])
    expect(maxUpscaleToU16([1, 2, 3])).toEqual([21845, 43690, 65535])
    expect(maxUpscaleToU16([0, 0])).toEqual([0, 0])
    // q = 65535/40000 is truncated, so 20000·q lands just below 32767.5
    expect(maxUpscaleToU16([40000, 20000])).toEqual([65535, 32767])
  })
  it('keeps explicit zeros as entries', () => {
    expect(
      storeWeights([
        [3, 0],
        [4, 100],
      ]),
    ).toEqual([
      [3, 0],
      [4, 65535],
    ])
  })
  it('checks the max weight limit on the normalised row', () => {
    expect(isMaxLimited([1, 1], 32768)).toBe(true)
    expect(isMaxLimited([3, 1], 32768)).toBe(false)
    expect(isMaxLimited([3, 1], 65535)).toBe(true)
  })
})
