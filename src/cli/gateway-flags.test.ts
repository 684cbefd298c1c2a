import { describe, expect, it } from 'vitest'
import { gatewayHttpFlags } from './gateway-flags.ts'

describe('gatewayHttpFlags', () => {
  it('accounts off, no CORS and the announced DNS names by default', () => {
    expect(gatewayHttpFlags({}, 'gateway')).toEqual({ allowedHosts: [] })
    expect(
      gatewayHttpFlags({}, 'gateway', ['/dns4/GW.example.com/tcp/4001', '/ip4/1.2.3.4/tcp/4001']),
    ).toEqual({ allowedHosts: ['gw.example.com'] })
  })

  it('--auth with prices per 1M tokens as exact micro-units', () => {
    const out = gatewayHttpFlags(
      { auth: true, 'price-prompt': '0.5', 'price-completion': '2' },
      'gateway',
    )
    expect(out.auth?.prices.quote('any')).toEqual({
      promptPerMillion: 500_000n,
      completionPerMillion: 2_000_000n,
    })
    expect(gatewayHttpFlags({ auth: true }, 'gateway').auth?.prices.quote('m')).toEqual({
      promptPerMillion: 0n,
      completionPerMillion: 0n,
    })
  })

  it('origins and host names are checked; each refusal names the flag', () => {
    expect(
      gatewayHttpFlags(
        {
          'cors-origin': 'https://a.example, http://localhost:3000',
          'allowed-hosts': 'API.example.com.',
        },
        'gateway',
      ),
    ).toEqual({
      corsOrigins: ['https://a.example', 'http://localhost:3000'],
      allowedHosts: ['api.example.com'],
    })
    // a miner advertises its own price with the same flags (read by the node command)
    expect(gatewayHttpFlags({ 'price-prompt': '1', 'price-completion': '2' }, 'miner')).toEqual({
      allowedHosts: [],
    })
    const bad: [Record<string, string | boolean>, string, RegExp][] = [
      [{ 'price-prompt': '1' }, 'gateway', /--price-prompt goes with --auth/],
      [{ auth: true, 'price-completion': '-1' }, 'gateway', /--price-completion must be/],
      [{ auth: true }, 'miner', /--auth goes with --role gateway/],
      [{ 'price-prompt': '1' }, 'validator', /--price-prompt goes with --role gateway/],
      [
        { 'cors-origin': 'https://a.example/path' },
        'gateway',
        /--cors-origin: .* is not an origin/,
      ],
      [{ 'cors-origin': 'a.example' }, 'gateway', /is not an origin/],
      [{ 'cors-origin': ',' }, 'gateway', /at least one origin/],
      [{ 'allowed-hosts': 'a.example:8080' }, 'gateway', /--allowed-hosts: .* is not a host name/],
      [{ 'allowed-hosts': '*' }, 'gateway', /is not a host name/],
      [{ 'allowed-hosts': 'bad_name.example' }, 'gateway', /is not a host name/],
      [{ 'cors-origin': '*' }, 'provider', /--cors-origin goes with --role gateway/],
    ]
    for (const [flags, role, message] of bad)
      expect(() => gatewayHttpFlags(flags, role), JSON.stringify(flags)).toThrow(message)
  })
})
