import { describe, expect, it } from 'vitest'
import { MAX_RECENT_ANSWER_BYTES, RecentAnswers } from './recent-answers.ts'

const answer = (response: string) => ({ at: 1, model: 'm', stream: false, response })

describe('RecentAnswers', () => {
  it('keeps the last `capacity` answers, newest first', () => {
    const ring = new RecentAnswers(3)
    for (const r of ['a', 'b', 'c', 'd', 'e']) ring.add(answer(r))
    expect(ring.list().map((a) => [a.seq, a.response])).toEqual([
      [5, 'e'],
      [4, 'd'],
      [3, 'c'],
    ])
    expect(ring.list(2).map((a) => a.response)).toEqual(['e', 'd'])
    expect(ring.list(0)).toEqual([])
    expect(ring.list(-4)).toEqual([])
  })

  it('drops an oversized answer and keeps one at the bound', () => {
    const ring = new RecentAnswers(2)
    ring.add(answer('x'.repeat(MAX_RECENT_ANSWER_BYTES + 1)))
    expect(ring.list()).toEqual([])
    ring.add(answer('y'.repeat(MAX_RECENT_ANSWER_BYTES)))
    expect(ring.list()[0]!.response.length).toBe(MAX_RECENT_ANSWER_BYTES)
  })

  it('refuses a capacity outside 1..1000', () => {
    for (const bad of [0, -1, 1.5, 1001, Number.NaN])
      expect(() => new RecentAnswers(bad)).toThrow(RangeError)
  })
})
