import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { SpecError } from '../errors/market.ts'
import {
  canonicalSpecBytes,
  type DeploymentSpec,
  MAX_SPEC_BYTES,
  parseDeploymentSpec,
  plannedOrders,
  specHash,
} from './spec.ts'

const EXAMPLE = readFileSync(join(import.meta.dirname, '../../examples/market/chat.yaml'), 'utf8')
const ROOT = '0x5c4a4b1ba0f9e8c7d6b5a4938271605f4e3d2c1b0a99887766554433221100ff'
const AUDITOR = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const AUDITOR2 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const EXAMPLE_HASH = '0xce91e720d7ff2995eab926b34cf06ed3950ce3ee586fe8cd1e86f4a4965048f8'

// biome-ignore lint/suspicious/noExplicitAny: an attack may reach into any field
type Json = Record<string, any>

/** A small valid spec as a plain object, for attacks that change one thing at a time. */
function base(): Json {
  return {
    version: '1.0',
    services: { chat: { model: { root: ROOT, name: 'verity-tiny' }, params: { maxTokens: 256 } } },
    profiles: {
      compute: {
        small: {
          resources: {
            cpu: { units: 1 },
            memory: { size: '512Mi' },
            storage: { size: '1Gi' },
            gpu: { units: 0 },
          },
        },
      },
      placement: {
        anywhere: {
          attributes: { region: 'eu-west' },
          signedBy: { anyOf: [AUDITOR], allOf: [] },
          pricing: { small: { denom: 'vty', amount: '0.001' } },
        },
      },
    },
    deployment: { chat: { anywhere: { profile: 'small', count: 1 } } },
  }
}

function parse(spec: Json | string): DeploymentSpec {
  const text = typeof spec === 'string' ? spec : stringify(spec)
  return parseDeploymentSpec(text, { source: 'spec.yaml' })
}

/** The message `fn` throws (as a SpecError). */
function errorOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SpecError)
    return (error as SpecError).shortMessage
  }
  throw new Error('expected a SpecError, nothing was thrown')
}

/** The message parsing `base()` changed by `mutate` throws. */
function attack(mutate: (s: Json) => void): string {
  const s = base()
  mutate(s)
  return errorOf(() => parse(s))
}

const small = (s: Json) => s.profiles.compute.small.resources
const anywhere = (s: Json) => s.profiles.placement.anywhere
const gpuProfile = (s: Json, gpu: Json) => {
  small(s).gpu = gpu
}

describe('the example spec', () => {
  it('parses and plans to exact values', () => {
    const spec = parseDeploymentSpec(EXAMPLE, { source: 'chat.yaml' })
    const common = {
      placement: 'eu',
      requirements: { region: 'eu-west' },
      signedByAnyOf: [AUDITOR],
      signedByAllOf: [],
    }
    expect(plannedOrders(spec)).toEqual([
      ...[0, 1].map((instance) => ({
        ...common,
        service: 'chat',
        profile: 'small',
        instance,
        model: { root: ROOT, name: 'verity-tiny' },
        params: { maxTokens: 256 },
        resources: {
          cpuMilli: 1000,
          gpuUnits: 0,
          memoryBytes: 536_870_912n,
          storageBytes: 1_073_741_824n,
        },
        maxPricePerBlock: 1_000_000_000_000_000n,
      })),
      {
        ...common,
        service: 'chat-gpu',
        profile: 'gpu',
        instance: 0,
        model: { root: ROOT },
        params: { maxTokens: 1024 },
        resources: { cpuMilli: 500, gpuUnits: 1, memoryBytes: 17_179_869_184n, storageBytes: 0n },
        maxPricePerBlock: 50_000_000_000_000_000n,
        requirements: {
          region: 'eu-west',
          'vendor/nvidia/model/h100': 'true',
          'vendor/nvidia/model/h100/ram': '80Gi',
        },
      },
    ])
    expect(spec.profiles.compute.gpu!.gpu).toEqual({ vendor: 'nvidia', model: 'h100', ram: '80Gi' })
  })

  it('has stable canonical bytes (golden hash)', () => {
    const bytes = canonicalSpecBytes(parseDeploymentSpec(EXAMPLE))
    expect(specHash(bytes)).toBe(EXAMPLE_HASH)
    const text = new TextDecoder().decode(bytes)
    expect(text).not.toMatch(/\s/)
    expect(text.startsWith('{"deployment":{"chat":{"eu":{"count":2,"profile":"small"}}')).toBe(true)
  })

  it('round-trips through its canonical bytes, with and without auth', () => {
    const spec = parseDeploymentSpec(EXAMPLE)
    const apiKeyHash = `0x${'AB'.repeat(32)}` as const
    const bytes = canonicalSpecBytes(spec, { apiKeyHash })
    const again = parseDeploymentSpec(new TextDecoder().decode(bytes))
    expect(again.auth).toEqual({ apiKeyHash: `0x${'ab'.repeat(32)}` })
    expect(canonicalSpecBytes(again)).toEqual(bytes)
    expect(plannedOrders(again)).toEqual(plannedOrders(spec))
    const plain = parseDeploymentSpec(new TextDecoder().decode(canonicalSpecBytes(spec)))
    expect(plain).toEqual(spec)
    expect(specHash(bytes)).not.toBe(EXAMPLE_HASH)
    expect(errorOf(() => canonicalSpecBytes(spec, { apiKeyHash: '0x12' }))).toBe(
      'apiKeyHash: expected a 32-byte hash (0x and 64 hex digits)',
    )
  })
})

describe('canonical bytes', () => {
  it('do not depend on key order, whitespace, comments or how a unit is written', () => {
    const a = base()
    const b = JSON.parse(JSON.stringify(a))
    // reverse every mapping's key order
    const reverse = (o: Json): Json =>
      Object.fromEntries(
        Object.entries(o)
          .reverse()
          .map(([k, v]) => [k, v && typeof v === 'object' && !Array.isArray(v) ? reverse(v) : v]),
      )
    const reversed = reverse(b)
    reversed.profiles.compute.small.resources.memory.size = '0.5Gi'
    reversed.profiles.compute.small.resources.cpu.units = '1000m'
    reversed.profiles.placement.anywhere.pricing.small.amount = 0.001
    reversed.profiles.placement.anywhere.signedBy.anyOf = [AUDITOR.toLowerCase()]
    delete reversed.profiles.compute.small.resources.gpu
    const flow = `# a comment\n${JSON.stringify(reversed, null, 7)}\n\n`
    const one = canonicalSpecBytes(parse(a))
    expect(canonicalSpecBytes(parse(flow))).toEqual(one)
    expect(canonicalSpecBytes(parse(stringify(a, { indent: 4 })))).toEqual(one)
  })

  it('sort auditors, so their order in the input does not matter', () => {
    const a = base()
    anywhere(a).signedBy.anyOf = [AUDITOR, AUDITOR2]
    const b = base()
    anywhere(b).signedBy.anyOf = [AUDITOR2, AUDITOR]
    expect(canonicalSpecBytes(parse(a))).toEqual(canonicalSpecBytes(parse(b)))
    expect(parse(a).profiles.placement.anywhere!.signedBy.anyOf).toEqual([AUDITOR2, AUDITOR])
  })

  it('refuse to exceed MAX_SPEC_BYTES (a provider must be able to re-parse them)', () => {
    const s = base()
    // short YAML sizes become long byte counts
    for (let i = 0; i < 220; i++)
      s.profiles.compute[`p${i}`] = { resources: { cpu: { units: 1 }, memory: { size: '1Ti' } } }
    const spec = parse(JSON.stringify(s))
    expect(errorOf(() => canonicalSpecBytes(spec))).toMatch(
      /^the canonical spec is \d+ bytes; a spec is at most 16384 bytes$/,
    )
  })
})

describe('invalid specs', () => {
  it('refuse oversized input before parsing it', () => {
    const long = `${stringify(base())}#${'x'.repeat(MAX_SPEC_BYTES)}`
    expect(errorOf(() => parse(long))).toBe(
      'spec.yaml: is over 16384 bytes; a spec is at most 16384 bytes',
    )
    const text = stringify(base())
    // fewer UTF-16 units than the limit, more UTF-8 bytes
    const multibyte = `${text}#${'é'.repeat((MAX_SPEC_BYTES - text.length) / 2 + 1)}`
    expect(multibyte.length).toBeLessThanOrEqual(MAX_SPEC_BYTES)
    expect(errorOf(() => parse(multibyte))).toMatch(/^spec\.yaml: is 1638\d bytes; a spec/)
    expect(errorOf(() => parseDeploymentSpec(long))).toMatch(/^spec: is over/)
  })

  it('give YAML syntax errors with line:column', () => {
    expect(errorOf(() => parse('version: "1.0"\nservices: {\n  chat: [\n'))).toMatch(
      /^spec\.yaml:\d+:\d+: /,
    )
    expect(errorOf(() => parse('version: "1.0"\nversion: "1.0"\n'))).toBe(
      'spec.yaml:2:1: Map keys must be unique',
    )
    expect(errorOf(() => parse('a: 1\n---\nb: 2\n'))).toBe(
      'spec.yaml:2:1: Source contains multiple documents; please use YAML.parseAllDocuments()',
    )
    expect(errorOf(() => parse('version: !secret "1.0"\n'))).toBe(
      'spec.yaml:1:10: Unresolved tag: !secret',
    )
  })

  it('refuse input that is not a mapping', () => {
    expect(errorOf(() => parse(''))).toBe(
      'spec.yaml: (top level): expected a mapping (the deployment spec), got nothing',
    )
    expect(errorOf(() => parse('- a\n- b\n'))).toBe(
      'spec.yaml: (top level): expected a mapping (the deployment spec), got a list',
    )
  })

  it('name unknown keys at every level', () => {
    const cases: [(s: Json) => void, string][] = [
      [
        (s) => (s.image = 'x'),
        'image: unknown key (expected one of version, services, profiles, deployment, auth)',
      ],
      [
        (s) => (s.services.chat.image = 'x'),
        'services.chat.image: unknown key (expected one of model, params)',
      ],
      [
        (s) => (s.services.chat.model.hash = 'x'),
        'services.chat.model.hash: unknown key (expected one of root, name)',
      ],
      [
        (s) => (s.services.chat.params.temperature = 1),
        'services.chat.params.temperature: unknown key (expected one of maxTokens)',
      ],
      [
        (s) => (s.profiles.storage = {}),
        'profiles.storage: unknown key (expected one of compute, placement)',
      ],
      [
        (s) => (s.profiles.compute.small.count = 1),
        'profiles.compute.small.count: unknown key (expected one of resources)',
      ],
      [
        (s) => (small(s).disk = 1),
        'profiles.compute.small.resources.disk: unknown key (expected one of cpu, memory, storage, gpu)',
      ],
      [
        (s) => (small(s).cpu.count = 1),
        'profiles.compute.small.resources.cpu.count: unknown key (expected one of units)',
      ],
      [
        (s) => (small(s).memory.bytes = 1),
        'profiles.compute.small.resources.memory.bytes: unknown key (expected one of size)',
      ],
      [
        (s) => (small(s).storage.class = 'beta3'),
        'profiles.compute.small.resources.storage.class: unknown key (expected one of size)',
      ],
      [
        (s) => (small(s).gpu.vendor = {}),
        'profiles.compute.small.resources.gpu.vendor: unknown key (expected one of units, attributes)',
      ],
      [
        (s) =>
          gpuProfile(s, {
            units: 1,
            attributes: { vendor: { nvidia: [{ model: 'h100' }] }, os: 'x' },
          }),
        'profiles.compute.small.resources.gpu.attributes.os: unknown key (expected one of vendor)',
      ],
      [
        (s) =>
          gpuProfile(s, {
            units: 1,
            attributes: { vendor: { nvidia: [{ model: 'h100', interface: 'sxm' }] } },
          }),
        'profiles.compute.small.resources.gpu.attributes.vendor.nvidia.0.interface: unknown key (expected one of model, ram)',
      ],
      [
        (s) => (anywhere(s).region = 'x'),
        'profiles.placement.anywhere.region: unknown key (expected one of attributes, signedBy, pricing)',
      ],
      [
        (s) => (anywhere(s).signedBy.oneOf = []),
        'profiles.placement.anywhere.signedBy.oneOf: unknown key (expected one of anyOf, allOf)',
      ],
      [
        (s) => (anywhere(s).pricing.small.max = 1),
        'profiles.placement.anywhere.pricing.small.max: unknown key (expected one of denom, amount)',
      ],
      [
        (s) => (s.deployment.chat.anywhere.replicas = 2),
        'deployment.chat.anywhere.replicas: unknown key (expected one of profile, count)',
      ],
      [
        (s) => (s.auth = { apiKeyHash: `0x${'0'.repeat(64)}`, key: 'x' }),
        'auth.key: unknown key (expected one of apiKeyHash)',
      ],
    ]
    for (const [mutate, message] of cases) expect(attack(mutate)).toBe(`spec.yaml: ${message}`)
  })

  it('name missing keys and what they should hold', () => {
    expect(attack((s) => delete s.version)).toBe(
      'spec.yaml: version: missing (expected the string "1.0" (quoted))',
    )
    expect(attack((s) => delete s.services.chat.model.root)).toBe(
      "spec.yaml: services.chat.model.root: missing (expected the model's modelRoot (0x and 64 hex digits))",
    )
    expect(attack((s) => delete small(s).memory)).toBe(
      'spec.yaml: profiles.compute.small.resources.memory: missing (expected a mapping)',
    )
    expect(attack((s) => delete s.deployment.chat.anywhere.count)).toBe(
      'spec.yaml: deployment.chat.anywhere.count: missing (expected a whole count, 1..8)',
    )
  })

  it('refuse wrong types', () => {
    expect(attack((s) => (s.version = 1))).toBe(
      'spec.yaml: version: expected the string "1.0" (quoted), got 1',
    )
    expect(attack((s) => (s.services = []))).toBe(
      'spec.yaml: services: expected a mapping from service names to services, got a list',
    )
    expect(attack((s) => (s.services.chat.params.maxTokens = '256'))).toBe(
      'spec.yaml: services.chat.params.maxTokens: expected a whole number of tokens, 1..4096, got "256"',
    )
    expect(attack((s) => (s.deployment.chat.anywhere.count = 1.5))).toBe(
      'spec.yaml: deployment.chat.anywhere.count: expected a whole count, 1..8, got 1.5',
    )
    expect(attack((s) => (small(s).cpu.units = true))).toBe(
      'spec.yaml: profiles.compute.small.resources.cpu.units: expected a CPU count > 0 like 0.5 or 2, or millicpu like "500m", got true',
    )
    expect(attack((s) => (small(s).memory.size = 512))).toBe(
      'spec.yaml: profiles.compute.small.resources.memory.size: expected a size like 512Mi or 2Gi, got 512',
    )
    expect(attack((s) => (anywhere(s).attributes.tier = 1))).toBe(
      'spec.yaml: profiles.placement.anywhere.attributes.tier: expected a string of 1..32 bytes (quote numbers and booleans), got 1',
    )
    expect(attack((s) => (anywhere(s).signedBy.anyOf = AUDITOR))).toBe(
      `spec.yaml: profiles.placement.anywhere.signedBy.anyOf: expected a list of at most 8 auditor addresses, got "${AUDITOR}"`,
    )
  })

  it('refuse out-of-range numbers', () => {
    const cpu =
      'spec.yaml: profiles.compute.small.resources.cpu.units: expected a CPU count > 0 like 0.5 or 2, or millicpu like "500m", got'
    expect(attack((s) => (small(s).cpu.units = 0))).toBe(`${cpu} 0`)
    expect(attack((s) => (small(s).cpu.units = -1))).toBe(`${cpu} -1`)
    expect(attack((s) => (small(s).cpu.units = '-500m'))).toBe(`${cpu} "-500m"`)
    expect(attack((s) => (small(s).cpu.units = '0m'))).toBe(`${cpu} "0m" (not within 1m..1000000m)`)
    expect(attack((s) => (small(s).cpu.units = 0.0005))).toBe(
      `${cpu} 0.0005 (not a whole number of millicpu)`,
    )
    expect(attack((s) => (small(s).cpu.units = 1001))).toBe(`${cpu} 1001 (not within 1m..1000000m)`)
    expect(attack((s) => (small(s).cpu.units = 2 ** 60))).toBe(
      `${cpu} 1152921504606847000 (not a CPU count)`,
    )
    const count = 'spec.yaml: deployment.chat.anywhere.count: expected a whole count, 1..8, got'
    expect(attack((s) => (s.deployment.chat.anywhere.count = 0))).toBe(`${count} 0`)
    expect(attack((s) => (s.deployment.chat.anywhere.count = 9))).toBe(`${count} 9`)
    const tokens =
      'spec.yaml: services.chat.params.maxTokens: expected a whole number of tokens, 1..4096, got'
    expect(attack((s) => (s.services.chat.params.maxTokens = 0))).toBe(`${tokens} 0`)
    expect(attack((s) => (s.services.chat.params.maxTokens = 4097))).toBe(`${tokens} 4097`)
  })

  it('refuse bad sizes', () => {
    const memory = 'spec.yaml: profiles.compute.small.resources.memory.size: expected a size'
    expect(attack((s) => (small(s).memory.size = 'lots'))).toBe(
      `${memory} like 512Mi or 2Gi, got "lots"`,
    )
    expect(attack((s) => (small(s).memory.size = '-1Gi'))).toBe(
      `${memory} like 512Mi or 2Gi, got "-1Gi"`,
    )
    expect(attack((s) => (small(s).memory.size = '512MB'))).toBe(
      `${memory} like 512Mi or 2Gi, got "512MB"`,
    )
    expect(attack((s) => (small(s).memory.size = '0Mi'))).toBe(
      `${memory} > 0 like 512Mi or 2Gi, got "0Mi"`,
    )
    expect(attack((s) => (small(s).memory.size = '0.1'))).toBe(
      `${memory} > 0 like 512Mi or 2Gi, got "0.1" (not a whole number of bytes)`,
    )
    expect(attack((s) => (small(s).memory.size = '16777216Ti'))).toBe(
      `${memory} > 0 like 512Mi or 2Gi, got "16777216Ti" (larger than 2^64-1 bytes)`,
    )
    expect(attack((s) => (small(s).storage.size = '1 Gi'))).toBe(
      'spec.yaml: profiles.compute.small.resources.storage.size: expected a size like 512Mi or 2Gi, got "1 Gi"',
    )
    // storage may be zero, and is zero when left out
    expect(parse(base()).profiles.compute.small!.resources.storageBytes).toBe(1_073_741_824n)
    const s = base()
    small(s).storage.size = '0'
    expect(parse(s).profiles.compute.small!.resources.storageBytes).toBe(0n)
    delete small(s).storage
    expect(parse(s).profiles.compute.small!.resources.storageBytes).toBe(0n)
  })

  it('refuse zero, negative and over-precise prices, and other denoms', () => {
    const amount =
      'spec.yaml: profiles.placement.anywhere.pricing.small.amount: expected a VTY amount > 0 like "0.001" (at most 18 decimals), got'
    const price = (v: unknown) => attack((s) => (anywhere(s).pricing.small.amount = v))
    expect(price(0)).toBe(`${amount} 0`)
    expect(price('0')).toBe(`${amount} "0"`)
    expect(price('0.000')).toBe(`${amount} "0.000"`)
    expect(price(-1)).toBe(`${amount} -1`)
    expect(price('-0.001')).toBe(`${amount} "-0.001"`)
    expect(price('1e-3')).toBe(`${amount} "1e-3"`)
    expect(price('0.0000000000000000001')).toBe(
      `${amount} "0.0000000000000000001" (more than 18 decimals)`,
    )
    expect(price(`1${'0'.repeat(21)}`)).toBe(
      `${amount} "1${'0'.repeat(21)}" (larger than 2^128-1 wei)`,
    )
    expect(attack((s) => (anywhere(s).pricing.small.denom = 'uakt'))).toBe(
      'spec.yaml: profiles.placement.anywhere.pricing.small.denom: expected the denom "vty", got "uakt"',
    )
    // a YAML number is read as the decimal a person wrote
    const s = base()
    anywhere(s).pricing.small.amount = 1e-7
    expect(parse(s).profiles.placement.anywhere!.pricing.small!.amount).toBe(100_000_000_000n)
    anywhere(s).pricing.small.amount = '0.000000000000000001'
    expect(parse(s).profiles.placement.anywhere!.pricing.small!.amount).toBe(1n)
  })

  it('refuse bad names, roots and addresses', () => {
    expect(attack((s) => (s.services.Chat = s.services.chat))).toBe(
      'spec.yaml: services.Chat: expected a name of 1..32 characters: a-z first, then a-z, 0-9 or - as the key, got "Chat"',
    )
    expect(attack((s) => (s.services[`a${'b'.repeat(32)}`] = s.services.chat))).toMatch(
      /^spec\.yaml: services\.abbb+: expected a name of 1\.\.32 characters/,
    )
    expect(attack((s) => (s.services.chat.model.root = '0x1234'))).toBe(
      `spec.yaml: services.chat.model.root: expected the model's modelRoot (0x and 64 hex digits), got "0x1234"`,
    )
    expect(attack((s) => (s.services.chat.model.root = `${ROOT}00`))).toMatch(/got "0x5c4a/)
    expect(attack((s) => (s.services.chat.model.name = 'n'.repeat(65)))).toMatch(
      /^spec\.yaml: services\.chat\.model\.name: expected a model name of 1\.\.64 characters, got "nnn/,
    )
    expect(attack((s) => (anywhere(s).signedBy.anyOf = ['0x1234']))).toBe(
      'spec.yaml: profiles.placement.anywhere.signedBy.anyOf.0: expected an address (0x and 40 hex digits), got "0x1234"',
    )
    const badChecksum = AUDITOR.replace('F39', 'f39').replace('f39F', 'f39f')
    expect(attack((s) => (anywhere(s).signedBy.allOf = [AUDITOR2, badChecksum]))).toBe(
      `spec.yaml: profiles.placement.anywhere.signedBy.allOf.1: expected an address with a valid checksum (or all lowercase), got "${badChecksum}"`,
    )
    expect(attack((s) => (anywhere(s).signedBy.anyOf = [AUDITOR, AUDITOR.toLowerCase()]))).toBe(
      `spec.yaml: profiles.placement.anywhere.signedBy.anyOf.1: duplicate auditor ${AUDITOR.toLowerCase()}`,
    )
    // unquoted 0x… in YAML is an address, not a hex integer, and is checksummed on output
    const text = stringify(base()).replace(`- "${AUDITOR}"`, `- ${AUDITOR.toLowerCase()}`)
    expect(text).toContain(`- ${AUDITOR.toLowerCase()}`)
    expect(parse(text).profiles.placement.anywhere!.signedBy.anyOf).toEqual([AUDITOR])
  })

  it('refuse too many auditors and attributes, and attributes over 32 bytes', () => {
    const nine = Array.from({ length: 9 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}`)
    expect(attack((s) => (anywhere(s).signedBy.allOf = nine))).toBe(
      'spec.yaml: profiles.placement.anywhere.signedBy.allOf: expected a list of at most 8 auditor addresses, got 9 items',
    )
    const eight = base()
    anywhere(eight).signedBy.allOf = nine.slice(1)
    expect(parse(eight).profiles.placement.anywhere!.signedBy.allOf).toHaveLength(8)
    const attrs = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']))
    expect(attack((s) => (anywhere(s).attributes = attrs(17)))).toBe(
      'spec.yaml: profiles.placement.anywhere.attributes: expected a mapping of at most 16 attributes (string to string), got 17 entries',
    )
    const at = 'spec.yaml: profiles.placement.anywhere.attributes'
    expect(attack((s) => (anywhere(s).attributes.region = 'a'.repeat(33)))).toBe(
      `${at}.region: expected the value to be a string of 1..32 bytes without NUL, got "${'a'.repeat(33)}" (33 bytes)`,
    )
    expect(attack((s) => (anywhere(s).attributes.region = 'é'.repeat(17)))).toBe(
      `${at}.region: expected the value to be a string of 1..32 bytes without NUL, got "${'é'.repeat(17)}" (34 bytes)`,
    )
    expect(attack((s) => (anywhere(s).attributes[`k${'e'.repeat(32)}`] = 'v'))).toBe(
      `${at}.k${'e'.repeat(32)}: expected the key to be a string of 1..32 bytes without NUL, got "k${'e'.repeat(32)}" (33 bytes)`,
    )
    expect(attack((s) => (anywhere(s).attributes.region = 'eu\0'))).toBe(
      `${at}.region: expected the value to be a string of 1..32 bytes without NUL, got "eu\\u0000" (3 bytes)`,
    )
    expect(attack((s) => (anywhere(s).attributes.region = ''))).toBe(
      `${at}.region: expected a string of 1..32 bytes (quote numbers and booleans), got ""`,
    )
    const ok = base()
    anywhere(ok).attributes = { ...attrs(14), region: 'é'.repeat(16), 'a/b c': 'x'.repeat(32) }
    expect(Object.keys(plannedOrders(parse(ok))[0]!.requirements)).toHaveLength(16)
  })

  it('check cross-references', () => {
    expect(attack((s) => (s.deployment.web = { anywhere: { profile: 'small', count: 1 } }))).toBe(
      'spec.yaml: deployment.web: service "web" is not defined under services',
    )
    expect(attack((s) => (s.deployment.chat.nowhere = { profile: 'small', count: 1 }))).toBe(
      'spec.yaml: deployment.chat.nowhere: placement "nowhere" is not defined under profiles.placement',
    )
    expect(attack((s) => (s.deployment.chat.anywhere.profile = 'big'))).toBe(
      'spec.yaml: deployment.chat.anywhere.profile: profile "big" is not defined under profiles.compute',
    )
    expect(attack((s) => (s.deployment.chat.anywhere.profile = 'constructor'))).toBe(
      'spec.yaml: deployment.chat.anywhere.profile: profile "constructor" is not defined under profiles.compute',
    )
    expect(attack((s) => (s.deployment.chat.tostring = { profile: 'small', count: 1 }))).toBe(
      'spec.yaml: deployment.chat.tostring: placement "tostring" is not defined under profiles.placement',
    )
    expect(
      attack((s) => {
        s.profiles.compute.big = s.profiles.compute.small
        s.deployment.chat.anywhere.profile = 'big'
      }),
    ).toBe(
      'spec.yaml: profiles.placement.anywhere.pricing.big: missing (deployment.chat.anywhere uses profile "big" here and needs its maximum price)',
    )
    expect(attack((s) => (anywhere(s).pricing.huge = { denom: 'vty', amount: 1 }))).toBe(
      'spec.yaml: profiles.placement.anywhere.pricing.huge: profile "huge" is not defined under profiles.compute',
    )
    expect(attack((s) => (s.services.idle = s.services.chat))).toBe(
      'spec.yaml: services.idle: not deployed (no entry under deployment)',
    )
    expect(attack((s) => (s.deployment.chat = {}))).toBe(
      'spec.yaml: deployment.chat: expected a mapping from placement names to {profile, count}, got 0 entries',
    )
  })

  it('turn a GPU into vendor/<v>/model/<m> requirements, and refuse half of one', () => {
    const gpu = 'spec.yaml: profiles.compute.small.resources.gpu'
    expect(attack((s) => gpuProfile(s, { units: 1 }))).toBe(
      `${gpu}.attributes: missing (gpu units > 0 need attributes.vendor.<vendor>: [{ model }], as in the SDL)`,
    )
    expect(
      attack((s) =>
        gpuProfile(s, { units: 0, attributes: { vendor: { nvidia: [{ model: 'h100' }] } } }),
      ),
    ).toBe(`${gpu}.units: expected > 0 when gpu attributes name a vendor, got 0`)
    expect(attack((s) => gpuProfile(s, { units: 1.5 }))).toBe(
      `${gpu}.units: expected a whole number of GPUs, 0..1024, got 1.5`,
    )
    expect(
      attack((s) =>
        gpuProfile(s, {
          units: 1,
          attributes: { vendor: { nvidia: [{ model: 'h100' }, { model: 'a100' }] } },
        }),
      ),
    ).toBe(
      `${gpu}.attributes.vendor.nvidia: expected a list of exactly one GPU model (order requirements are all-of), got 2 items`,
    )
    expect(
      attack((s) =>
        gpuProfile(s, {
          units: 1,
          attributes: { vendor: { nvidia: [{ model: 'h100' }], amd: [{ model: 'mi300' }] } },
        }),
      ),
    ).toBe(
      `${gpu}.attributes.vendor: expected a mapping with exactly one GPU vendor, like nvidia, got 2 entries`,
    )
    expect(
      attack((s) =>
        gpuProfile(s, { units: 1, attributes: { vendor: { nvidia: [{ model: 'H100' }] } } }),
      ),
    ).toBe(
      `${gpu}.attributes.vendor.nvidia.0.model: expected a GPU model like h100 (lowercase), got "H100"`,
    )
    expect(
      attack((s) =>
        gpuProfile(s, {
          units: 1,
          attributes: { vendor: { nvidia: [{ model: 'h100', ram: '0Gi' }] } },
        }),
      ),
    ).toBe(
      `${gpu}.attributes.vendor.nvidia.0.ram: expected a GPU memory size > 0 like 80Gi, got "0Gi"`,
    )
    expect(
      attack((s) =>
        gpuProfile(s, {
          units: 1,
          attributes: { vendor: { nvidia: [{ model: 'rtx-6000-ada-generation' }] } },
        }),
      ),
    ).toBe(
      `${gpu}.attributes.vendor.nvidia.0.model: makes the requirement vendor/nvidia/model/rtx-6000-ada-generation=true longer than 32 bytes (the contract's bytes32)`,
    )
    expect(
      attack((s) =>
        gpuProfile(s, {
          units: 1,
          attributes: { vendor: { nvidia: [{ model: 'rtx-a6000', ram: '48Gi' }] } },
        }),
      ),
    ).toBe(
      `${gpu}.attributes.vendor.nvidia.0.ram: makes the requirement vendor/nvidia/model/rtx-a6000/ram=48Gi longer than 32 bytes (the contract's bytes32)`,
    )
    // GPU-derived requirements count toward the 16, and may not contradict the placement
    const h100 = { units: 2, attributes: { vendor: { nvidia: [{ model: 'h100', ram: '80Gi' }] } } }
    expect(
      attack((s) => {
        gpuProfile(s, h100)
        anywhere(s).attributes = Object.fromEntries(
          Array.from({ length: 15 }, (_, i) => [`k${i}`, 'v']),
        )
      }),
    ).toBe(
      'spec.yaml: profiles.placement.anywhere.attributes: expected at most 16 requirements including those from the GPU of profile "small", got 17',
    )
    expect(
      attack((s) => {
        gpuProfile(s, h100)
        anywhere(s).attributes['vendor/nvidia/model/h100'] = 'false'
      }),
    ).toBe(
      'spec.yaml: profiles.placement.anywhere.attributes["vendor/nvidia/model/h100"]: conflicts with the GPU requirement vendor/nvidia/model/h100=true of profile "small"',
    )
    const s = base()
    gpuProfile(s, h100)
    anywhere(s).attributes['vendor/nvidia/model/h100'] = 'true'
    const [order] = plannedOrders(parse(s))
    expect(order!.resources.gpuUnits).toBe(2)
    expect(order!.requirements).toEqual({
      region: 'eu-west',
      'vendor/nvidia/model/h100': 'true',
      'vendor/nvidia/model/h100/ram': '80Gi',
    })
  })

  it('survive YAML tricks: alias bombs, infinities, __proto__ keys, hex integers', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    ].join('\n')
    expect(errorOf(() => parse(bomb))).toMatch(/^spec\.yaml: Excessive alias count/)
    const text = stringify(base())
    expect(errorOf(() => parse(text.replace('units: 1', 'units: .inf')))).toBe(
      'spec.yaml: profiles.compute.small.resources.cpu.units: expected a CPU count > 0 like 0.5 or 2, or millicpu like "500m", got Infinity',
    )
    expect(errorOf(() => parse(text.replace('amount: "0.001"', 'amount: 0x10')))).toBe(
      'spec.yaml: profiles.placement.anywhere.pricing.small.amount: expected a VTY amount > 0 like "0.001" (at most 18 decimals), got "0x10"',
    )
    const proto = parse(
      text.replace('region: eu-west', 'region: eu-west\n        __proto__: polluted'),
    )
    const { requirements } = plannedOrders(proto)[0]!
    expect(Object.hasOwn(requirements, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(requirements)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    const again = parseDeploymentSpec(new TextDecoder().decode(canonicalSpecBytes(proto)))
    expect(plannedOrders(again)[0]!.requirements).toEqual(requirements)
  })

  it('refuse the auth field when it is malformed', () => {
    expect(attack((s) => (s.auth = { apiKeyHash: '0x12' }))).toBe(
      'spec.yaml: auth.apiKeyHash: expected a 32-byte hash (0x and 64 hex digits), got "0x12"',
    )
  })
})

describe('random attacks', () => {
  /** Every path to a value in `o` (objects and arrays included). */
  function paths(o: unknown, at: (string | number)[] = []): (string | number)[][] {
    if (o === null || typeof o !== 'object') return [at]
    const entries = Array.isArray(o) ? o.map((v, i) => [i, v] as const) : Object.entries(o)
    return [at, ...entries.flatMap(([k, v]) => paths(v, [...at, k]))]
  }
  const all = paths(base()).filter((p) => p.length > 0)

  it('throw only SpecError, and whatever parses round-trips through its canonical bytes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom(...all),
            fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        (edits) => {
          const s = base()
          for (const [path, value] of edits) {
            let parent: Json = s
            for (const k of path.slice(0, -1)) {
              if (parent[k] === null || typeof parent[k] !== 'object') return
              parent = parent[k]
            }
            const last = path[path.length - 1]!
            if (value === undefined) delete parent[last]
            else parent[last] = value
          }
          let spec: DeploymentSpec
          try {
            spec = parse(s)
          } catch (error) {
            expect(error).toBeInstanceOf(SpecError)
            return
          }
          const bytes = canonicalSpecBytes(spec)
          const again = parseDeploymentSpec(new TextDecoder().decode(bytes))
          expect(canonicalSpecBytes(again)).toEqual(bytes)
          expect(plannedOrders(again)).toEqual(plannedOrders(spec))
        },
      ),
      { numRuns: 400 },
    )
  })

  it('throw only SpecError on a mangled example text', () => {
    const piece = fc.constantFrom(
      ':',
      '-',
      ' ',
      '\n',
      '"',
      "'",
      '[',
      ']',
      '{',
      '}',
      '&a',
      '*a',
      '!t',
      '0x',
      '7',
      'é',
      '#',
      '\t',
      'm',
      'Gi',
    )
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(EXAMPLE.length), fc.nat(3), piece), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          let text = EXAMPLE
          for (const [at, cut, insert] of edits)
            text = text.slice(0, at) + insert + text.slice(at + cut)
          try {
            const spec = parseDeploymentSpec(text)
            expect(parseDeploymentSpec(new TextDecoder().decode(canonicalSpecBytes(spec)))).toEqual(
              spec,
            )
          } catch (error) {
            expect(error).toBeInstanceOf(SpecError)
          }
        },
      ),
      { numRuns: 400 },
    )
  })
})
