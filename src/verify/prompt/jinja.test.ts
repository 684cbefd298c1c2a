import { describe, expect, it } from 'vitest'
import { ChatTemplateError, ChatTemplateRejectedError } from '../../errors/gateway.ts'
import { chatTemplate, DEFAULT_CHAT_TEMPLATE, renderChat } from './chat.ts'
import { compileTemplate } from './jinja.ts'

const tokens = { bosToken: '<s>', eosToken: '</s>', time: 0 }
const convo = [
  { role: 'system', content: 'You are kind.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Bye' },
]

// Templates as shipped in GGUF files (whitespace as in the originals).
const LLAMA2 =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"

const LLAMA3 = `{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}`

const ZEPHYR = `{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>\n'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}`

const QWEN_LIKE = `{%- set ns = namespace(last_user=-1) -%}
{%- for m in messages -%}
  {%- if m.role == "user" -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}
{%- endfor -%}
{%- for m in messages if m.role != "system" -%}
{{- "<|im_start|>" ~ m.role ~ "\n" ~ m.content ~ "<|im_end|>\n" -}}
{%- endfor -%}
{{- "last=" ~ ns.last_user ~ (" sys" if messages[0].role is defined and messages[0].role == "system" else "") -}}`

describe('chat templates', () => {
  it('renders the default ChatML template with the generation prompt', () => {
    const out = renderChat(chatTemplate(undefined), convo.slice(0, 2), tokens)
    expect(out).toBe(
      '<|im_start|>system\nYou are kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    )
    expect(chatTemplate(undefined).source).toBe(DEFAULT_CHAT_TEMPLATE)
  })

  it('renders the Llama 2 template and its alternation check rejects bad conversations', () => {
    const out = renderChat(chatTemplate(LLAMA2), convo, tokens)
    expect(out).toBe(
      '<s>[INST] <<SYS>>\nYou are kind.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]',
    )
    expect(() =>
      renderChat(chatTemplate(LLAMA2), [{ role: 'assistant', content: 'x' }], tokens),
    ).toThrow(ChatTemplateRejectedError)
  })

  it('renders the Llama 3 template (filters bind tighter than +)', () => {
    const out = renderChat(chatTemplate(LLAMA3), [{ role: 'user', content: ' Hi ' }], {
      bosToken: '<|begin_of_text|>',
      eosToken: '<|eot_id|>',
      time: 0,
    })
    expect(out).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    )
  })

  it('applies trim_blocks and lstrip_blocks like apply_chat_template (Zephyr)', () => {
    const out = renderChat(chatTemplate(ZEPHYR), convo.slice(0, 2), tokens)
    expect(out).toBe('<|system|>\nYou are kind.</s>\n<|user|>\nHi</s>\n<|assistant|>\n')
  })

  it('handles namespaces, loop filters, ~, conditional expressions and is-tests', () => {
    const out = renderChat(chatTemplate(QWEN_LIKE), convo, tokens)
    expect(out).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\nlast=3 sys',
    )
  })

  it('evaluates expressions: slices, indexing, methods, filters, tests, dicts', () => {
    const r = (s: string, ctx: Record<string, unknown> = {}) => compileTemplate(s)(ctx)
    expect(r('{{ xs[::-1] | join(",") }}', { xs: [1, 2, 3] })).toBe('3,2,1')
    expect(r('{{ xs[-1] }}{{ xs[1:2][0] }}', { xs: [1, 2, 3] })).toBe('32')
    expect(r("{{ 'a b'.split() | length }}{{ 'Hi'.upper() }}{{ 'x'.startswith('x') }}")).toBe(
      '2HITrue',
    )
    expect(r('{{ missing is defined }}{{ none is none }}{{ 7 // 2 }}{{ 7 % 3 }}')).toBe(
      'FalseTrue31',
    )
    expect(r("{{ {'a': 1}['a'] }}{{ d.get('b', 'z') }}{{ 'a' in d }}", { d: { a: 1 } })).toBe(
      '1zTrue',
    )
    expect(
      r('{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}', { d: { a: 1, b: 2 } }),
    ).toBe('a=1;b=2;')
    expect(r('{% for x in [] %}x{% else %}empty{% endfor %}')).toBe('empty')
    expect(r('{{ x | tojson }}{{ y | default("d") }}', { x: { a: [1] } })).toBe('{"a":[1]}d')
    expect(
      r('{{- "  a  " | trim -}}  {# comment #}  {{ "b" if not f else "c" }}', { f: false }),
    ).toBe('a  b')
    expect(r('{% if a %}1{% elif b %}2{% else %}3{% endif %}', { b: true })).toBe('2')
    expect(r('{{ range(3) | join }}')).toBe('012')
  })

  it('strftime_now reads the time the request commits to, in UTC, not the clock', () => {
    const t = chatTemplate("{{ strftime_now('%d %b %Y %H:%M') }}")
    const at = (time: number) => renderChat(t, convo, { ...tokens, time })
    expect(at(0)).toBe('01 Jan 1970 00:00')
    expect(at(1_796_228_468)).toBe('02 Dec 2026 16:21')
    expect(at(1_796_228_468)).toBe(at(1_796_228_468))
  })

  it('a template it cannot handle is a ChatTemplateError naming the construct', () => {
    expect(() => compileTemplate('{% macro m() %}x{% endmacro %}')).toThrow(
      /unsupported tag 'macro'/,
    )
    expect(() => compileTemplate('{% if x %}never closed')).toThrow(ChatTemplateError)
    expect(() => compileTemplate('{{ x | frobnicate }}')({ x: 1 })).toThrow(/unsupported filter/)
    expect(() => compileTemplate('{{ 1 + }}')).toThrow(ChatTemplateError)
    expect(() => compileTemplate('{{ x')).toThrow(/unclosed tag/)
  })
})
