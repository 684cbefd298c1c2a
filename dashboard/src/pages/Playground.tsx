import { useMemo, useState } from 'preact/hooks'
import { chainClient, type DashboardConfig } from '../config.ts'
import { type Verdict, verifyAnswer } from '../verify-answer.ts'
import { VerdictView } from './VerdictView.tsx'

type Answer = { content: string; receipt: unknown; verdict: Verdict }

/** Chat through the gateway's OpenAI API (same origin); each answer is verified as it arrives. */
export function Playground({ config }: { config: DashboardConfig }) {
  const client = useMemo(() => chainClient(config), [config])
  const [model, setModel] = useState(config.models[0]?.id ?? '')
  const [prompt, setPrompt] = useState('')
  const [busy, setBusy] = useState(false)
  const [answer, setAnswer] = useState<Answer | Error>()
  const send = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setAnswer(undefined)
    try {
      const res = await fetch('../v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          messages: [{ role: 'user', content: prompt }],
          max_tokens: 48,
        }),
      })
      const text = await res.text()
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`)
      const body = JSON.parse(text) as {
        choices: { message: { content: string | null } }[]
        verity: unknown
      }
      const verdict = await verifyAnswer(text, {
        client,
        verity: config.deployment.contracts.verity,
      })
      setAnswer({ content: body.choices[0]?.message.content ?? '', receipt: body.verity, verdict })
    } catch (error) {
      setAnswer(error as Error)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={send}>
      <p class="row">
        <label for="model">Model</label>{' '}
        <select
          id="model"
          value={model}
          onChange={(e) => setModel((e.target as HTMLSelectElement).value)}
        >
          {config.models.map((m) => (
            <option value={m.id} key={m.id}>
              {m.id}
            </option>
          ))}
        </select>
      </p>
      <label for="prompt">Message</label>
      <textarea
        id="prompt"
        rows={3}
        value={prompt}
        onInput={(e) => setPrompt((e.target as HTMLTextAreaElement).value)}
      />
      <p>
        <button type="submit" disabled={busy || prompt.trim() === '' || model === ''}>
          {busy ? 'Waiting for the network…' : 'Send'}
        </button>
      </p>
      {answer instanceof Error ? (
        <p role="alert" class="bad">
          {answer.message}
        </p>
      ) : (
        answer && (
          <>
            <section aria-label="Answer">
              <h2>Answer</h2>
              <p id="answer" class="answer">
                {answer.content}
              </p>
            </section>
            <VerdictView verdict={answer.verdict} />
            <details>
              <summary>Receipt</summary>
              <pre class="wrap">{JSON.stringify(answer.receipt, null, 2)}</pre>
            </details>
          </>
        )
      )}
    </form>
  )
}
