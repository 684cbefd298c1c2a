import { useMemo, useState } from 'preact/hooks'
import { chainClient, type DashboardConfig } from '../config.ts'
import { type Verdict, verifyAnswer } from '../verify-answer.ts'
import { Reexecute } from './Reexecute.tsx'
import { VerdictView } from './VerdictView.tsx'

/** Paste a saved answer (JSON body or SSE text): the browser checks it, trusting no server. */
export function Receipts({ config }: { config: DashboardConfig }) {
  const client = useMemo(() => chainClient(config), [config])
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [verdict, setVerdict] = useState<Verdict>()
  // the text that verdict is for (the box may have changed since)
  const [checked, setChecked] = useState('')
  const check = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setVerdict(undefined)
    try {
      setVerdict(await verifyAnswer(text, { client, verity: config.deployment.contracts.verity }))
      setChecked(text)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={check}>
      <p>
        Checks the miner's signature, the request and output hashes, the prompt rendering and the
        text shown, with the model's own tokenizer (its file is fetched and its modelRoot computed
        here), and the signer's registration on the chain.
      </p>
      <label for="saved">Saved response (JSON body or the stream's data: lines)</label>
      <textarea
        id="saved"
        rows={12}
        value={text}
        spellcheck={false}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      <p>
        <button type="submit" disabled={busy || text.trim() === ''}>
          {busy ? 'Checking…' : 'Verify'}
        </button>
      </p>
      {verdict && <VerdictView verdict={verdict} />}
      {verdict?.ok && <Reexecute text={checked} key={checked} />}
    </form>
  )
}
