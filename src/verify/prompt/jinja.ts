import { Environment, Interpreter, parse, tokenize } from '@huggingface/jinja'
import { ChatTemplateError, ChatTemplateRejectedError } from '../../errors/gateway.ts'

/**
 * Chat templates rendered by @huggingface/jinja, the Jinja implementation the ecosystem's chat
 * templates are written against (transformers.js; the same lexer options as Hugging Face's
 * `apply_chat_template`: trim_blocks and lstrip_blocks). Only the globals are the project's own:
 * `strftime_now` must read the render time the request commits to (never the clock, and in UTC),
 * and `raise_exception` is a ChatTemplateRejectedError (the messages are at fault, not the server).
 */

export type CompiledTemplate = (context: Record<string, unknown>) => string

const message = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]

/** Compiles a chat template; a template the library cannot parse is a ChatTemplateError. */
export function compileTemplate(source: string): CompiledTemplate {
  let program: ReturnType<typeof parse>
  try {
    program = parse(tokenize(source, { lstrip_blocks: true, trim_blocks: true }))
  } catch (error) {
    throw new ChatTemplateError(`the template cannot be parsed: ${message(error)}`, {
      cause: error,
    })
  }
  return (context) => {
    const env = new Environment()
    const globals: Record<string, unknown> = {
      false: false,
      true: true,
      none: null,
      False: false,
      True: true,
      None: null,
      range,
      raise_exception: (text: unknown) => {
        throw new ChatTemplateRejectedError(String(text))
      },
      // A template without a committed time must not read the clock: the epoch is at least stable.
      strftime_now: (format: unknown) => strftime(String(format), new Date(0)),
    }
    for (const [name, value] of Object.entries({ ...globals, ...context })) env.set(name, value)
    try {
      return new Interpreter(env).run(program).value as string
    } catch (error) {
      if (error instanceof ChatTemplateRejectedError) throw error
      throw new ChatTemplateError(`the template cannot be rendered: ${message(error)}`, {
        cause: error,
      })
    }
  }
}

/** Python's range(), which templates call as a global. */
function range(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start]
  if (step === 0) throw new ChatTemplateError('range() step must not be zero')
  const out: number[] = []
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i)
  return out
}

/**
 * C's strftime for the directives chat templates use, in UTC: a template's clock is the request's
 * committed render time, and a verifier must render the same text in any time zone.
 */
export function strftime(format: string, d: Date): string {
  const months =
    'January February March April May June July August September October November December'.split(
      ' ',
    )
  const days = 'Sunday Monday Tuesday Wednesday Thursday Friday Saturday'.split(' ')
  const p2 = (n: number) => String(n).padStart(2, '0')
  return format.replace(/%([dbBmYyHMSaAje%])/g, (_, c: string) => {
    switch (c) {
      case 'd':
        return p2(d.getUTCDate())
      case 'e':
        return String(d.getUTCDate())
      case 'b':
        return months[d.getUTCMonth()]!.slice(0, 3)
      case 'B':
        return months[d.getUTCMonth()]!
      case 'm':
        return p2(d.getUTCMonth() + 1)
      case 'Y':
        return String(d.getUTCFullYear())
      case 'y':
        return p2(d.getUTCFullYear() % 100)
      case 'H':
        return p2(d.getUTCHours())
      case 'M':
        return p2(d.getUTCMinutes())
      case 'S':
        return p2(d.getUTCSeconds())
      case 'a':
        return days[d.getUTCDay()]!.slice(0, 3)
      case 'A':
        return days[d.getUTCDay()]!
      case 'j':
        return String(
          Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 0)) / 86400000),
        ).padStart(3, '0')
      default:
        return '%'
    }
  })
}
