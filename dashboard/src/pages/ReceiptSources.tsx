import { useEffect, useState } from 'preact/hooks'

/** One entry of the gateway's GET /v1/verity/recent. */
type Recent = { id: number; created: number; model: string; stream: boolean; response: string }

/** The answer's first words, for the picker (a stream's are spread over its chunks). */
function preview(r: Recent): string {
  let text = ''
  try {
    if (r.stream) {
      for (const line of r.response.split('\n')) {
        if (!line.startsWith('data: {')) continue
        const choice = JSON.parse(line.slice(6)).choices?.[0]
        text += choice?.delta?.content ?? choice?.text ?? ''
      }
    } else {
      const choice = JSON.parse(r.response).choices?.[0]
      text = choice?.message?.content ?? choice?.text ?? ''
    }
  } catch {
    text = ''
  }
  text = text.replace(/\s+/g, ' ').trim()
  return text.length > 48 ? `${text.slice(0, 48)}…` : text
}

/**
 * The gateway's latest answers as a list to pick one from (the gateway keeps them only when it
 * runs open, with the dashboard on); `onPick` gets the full saved response.
 */
export function RecentPicker({ onPick }: { onPick: (text: string) => void }) {
  const [list, setList] = useState<Recent[] | string>()
  const [picked, setPicked] = useState<number>()
  const [round, setRound] = useState(0)
  useEffect(() => {
    const abort = new AbortController()
    fetch('../v1/verity/recent', { signal: abort.signal }).then(
      async (res) => {
        if (res.status === 404) return setList('This gateway keeps no recent answers.')
        if (!res.ok) return setList(`Cannot list recent answers: HTTP ${res.status}`)
        const data = ((await res.json()) as { data: Recent[] }).data
        setList(data)
        setPicked(data[0]?.id)
      },
      (e: Error) => !abort.signal.aborted && setList(`Cannot list recent answers: ${e.message}`),
    )
    return () => abort.abort()
  }, [round])
  if (list === undefined) return <p role="status">Listing the gateway's recent answers…</p>
  if (typeof list === 'string') return <p>{list}</p>
  const pick = () => {
    const found = list.find((r) => r.id === picked)
    if (found) onPick(found.response)
  }
  return (
    <p class="row">
      <label for="recent">Recent answer</label>{' '}
      <select
        id="recent"
        value={picked}
        disabled={list.length === 0}
        onChange={(e) => setPicked(Number((e.target as HTMLSelectElement).value))}
      >
        {list.length === 0 && <option>none yet</option>}
        {list.map((r) => (
          <option value={r.id} key={r.id}>
            #{r.id} {new Date(r.created * 1000).toLocaleTimeString()} {r.model}
            {r.stream ? ' (stream)' : ''}: {preview(r)}
          </option>
        ))}
      </select>{' '}
      <button type="button" disabled={list.length === 0} onClick={pick}>
        Check the picked answer
      </button>{' '}
      <button type="button" onClick={() => setRound(round + 1)}>
        Refresh
      </button>
    </p>
  )
}

/** The largest file read (a saved answer is a few KiB; the gateway keeps none over 256 KiB). */
const MAX_FILE_BYTES = 4 << 20

/** Reads a dropped or chosen file as text, refusing what cannot be a saved answer. */
export async function readSavedFile(file: File): Promise<string> {
  if (file.size > MAX_FILE_BYTES)
    throw new Error(`${file.name} is ${file.size} bytes: a saved answer is at most 4 MiB`)
  return await file.text()
}

/** A file input for a saved response (.json body or SSE text); dropping a file on the page works too. */
export function FileOpener({ onOpen }: { onOpen: (file: File) => void }) {
  return (
    <p class="row">
      <label for="saved-file">Or open a saved file (or drop one on this page)</label>{' '}
      <input
        id="saved-file"
        type="file"
        accept=".json,.txt,.sse,application/json,text/plain,text/event-stream"
        onChange={(e) => {
          const file = (e.target as HTMLInputElement).files?.[0]
          if (file) onOpen(file)
        }}
      />
    </p>
  )
}
