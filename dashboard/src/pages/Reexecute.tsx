import { useState } from 'preact/hooks'
import { type Reexecution, reexecuteAnswer } from '../verify-answer.ts'

/** Re-runs a verified answer's model in the browser, with a progress bar over its tokens. */
export function Reexecute({ text }: { text: string }) {
  const [progress, setProgress] = useState<{ done: number; total: number }>()
  const [result, setResult] = useState<Reexecution | Error>()
  const run = async () => {
    setResult(undefined)
    setProgress({ done: 0, total: 1 })
    try {
      setResult(await reexecuteAnswer(text, (done, total) => setProgress({ done, total })))
    } catch (error) {
      setResult(error as Error)
    }
  }
  const running = progress !== undefined && result === undefined
  return (
    <section class="reexecute">
      <button type="button" onClick={run} disabled={running}>
        Re-execute in the browser
      </button>
      {progress && (
        <p>
          <label for="reexecution-progress">Tokens re-computed</label>{' '}
          <progress id="reexecution-progress" value={progress.done} max={progress.total} />{' '}
          {progress.done}/{progress.total}
        </p>
      )}
      {result instanceof Error ? (
        <p role="alert" class="bad">
          {result.message}
        </p>
      ) : (
        result && (
          <div
            id="reexecution"
            class={`verdict ${result.ok ? 'good' : 'bad'}`}
            aria-live="polite"
            data-ok={result.ok}
          >
            <ul>
              {result.ok
                ? result.lines.map((l) => <li key={l}>{l}</li>)
                : result.mismatches.map((m) => (
                    <li key={`${m.field}:${m.problem}`}>
                      <strong>{m.field}</strong>: {m.problem}
                    </li>
                  ))}
              <li>{(result.ms / 1000).toFixed(2)} s in this browser</li>
            </ul>
          </div>
        )
      )}
    </section>
  )
}
