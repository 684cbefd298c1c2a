import type { Verdict } from '../verify-answer.ts'

/** A verdict as the page shows it: what passed, or each field at fault. */
export function VerdictView({ verdict }: { verdict: Verdict }) {
  return (
    <section
      class={`verdict ${verdict.ok ? 'good' : 'bad'}`}
      aria-live="polite"
      data-ok={verdict.ok}
    >
      <h2>{verdict.ok ? 'Verified' : 'Does not verify'}</h2>
      <ul>
        {verdict.ok
          ? verdict.passed.map((line) => <li key={line}>{line}</li>)
          : verdict.mismatches.map((m) => (
              <li key={`${m.field}:${m.problem}`}>
                <strong>{m.field}</strong>: {m.problem}
              </li>
            ))}
      </ul>
    </section>
  )
}
