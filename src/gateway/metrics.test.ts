import { describe, expect, it } from 'vitest'
import { GatewayMetrics } from './metrics.ts'

describe('GatewayMetrics', () => {
  it('keeps each gateway in its own registry: counts after known traffic, labels in name order', async () => {
    const a = new GatewayMetrics()
    const b = new GatewayMetrics()
    a.requests.inc({ status: '200', method: 'POST', endpoint: '/v1/chat/completions' })
    a.requests.inc({ endpoint: '/v1/chat/completions', method: 'POST', status: '200' })
    a.completionTokens.inc({ model: 'm' }, 7)
    a.latency.observe({ endpoint: '/v1/completions' }, 0.2)
    const text = await a.render([])
    expect(text).toMatch(
      /^verity_gateway_requests_total\{endpoint="\/v1\/chat\/completions",method="POST",status="200"\} 2$/m,
    )
    expect(text).toMatch(/^verity_gateway_completion_tokens_total\{model="m"\} 7$/m)
    expect(text).toMatch(
      /^verity_gateway_request_duration_seconds_bucket\{endpoint="\/v1\/completions",le="0.1"\} 0$/m,
    )
    expect(text).toMatch(
      /^verity_gateway_request_duration_seconds_bucket\{endpoint="\/v1\/completions",le="0.25"\} 1$/m,
    )
    expect(text).toMatch(/^verity_gateway_requests_in_flight 0$/m)
    expect(
      a.requests.get({ endpoint: '/v1/chat/completions', method: 'POST', status: '200' }),
    ).toBe(2)
    expect(await b.render([])).not.toMatch(/verity_gateway_requests_total\{/)
  })
})
