import { useMemo, useState } from 'preact/hooks'
import { chainClient, type DashboardConfig } from '../config.ts'
import { type Verdict, verifyAnswer } from '../verify-answer.ts'
import { FileOpener, RecentPicker, readSavedFile } from './ReceiptSources.tsx'
import { Reexecute } from './Reexecute.tsx'
import { VerdictView } from './VerdictView.tsx'

/**
 * Paste, drop or open a saved answer (JSON body or SSE text), or pick one of the gateway's recent
 * ones: the browser checks it, trusting no server.
 */
export function Receipts({ config }: { config: DashboardConfig }) {
  const client = useMemo(() => chainClient(config), [config])
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [verdict, setVerdict] = useState<Verdict>()
  // the text that verdict is for (the box may have changed since)
  const [checked, setChecked] = useState('')
  const verify = async (answer: string) => {
    setBusy(true)
    setVerdict(undefined)
    try {
      setVerdict(await verifyAnswer(answer, { client, verity: config.deployment.contracts.verity }))
      setChecked(answer)
    } finally {
      setBusy(false)
    }
  }
  const check = (e: Event) => {
    e.preventDefault()
    void verify(text)
  }
  // a picked, dropped or opened answer goes into the box (to read) and is checked at once
  const load = (answer: string) => {
    setText(answer)
    void verify(answer)
  }
  const open = (file: File) =>
    readSavedFile(file).then(load, (error: Error) =>
      setVerdict({
        ok: false,
        passed: [],
        mismatches: [{ field: 'file', problem: error.message }],
      }),
    )
  return (
    <form
      onSubmit={check}
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        const file = e.dataTransfer?.files[0]
        if (!file) return
        e.preventDefault()
        void open(file)
      }}
    >
      <p>
        Checks the miner's signature, the request and output hashes, the prompt rendering and the
        text shown, with the model's own tokenizer (its file is fetched and its modelRoot computed
        here), and the signer's registration on the chain.
      </p>
      <RecentPicker onPick={load} />
      <FileOpener onOpen={(file) => void open(file)} />
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
