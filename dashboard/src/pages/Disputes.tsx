import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { formatEther } from 'viem'
import type { DisputeLog } from '../../../src/chain/actions/getDisputeLog.ts'
import { chainClient, type DashboardConfig } from '../config.ts'
import {
  type DisputeMove,
  type DisputeRow,
  phaseName,
  readDisputes,
  readMoveLog,
  short,
} from '../disputes.ts'
import { type Column, SortableTable } from '../SortableTable.tsx'

/** VTY in full: slashes and bonds are few and exact amounts matter. */
const vty = (wei: bigint) => formatEther(wei)
const stateOrder = { open: 0, 'rounds played': 1, decided: 2 } as const

export const DISPUTE_COLUMNS: Column<DisputeRow>[] = [
  { key: 'id', label: 'ID', show: (r) => String(r.id), sortBy: (r) => r.id, numeric: true },
  { key: 'netuid', label: 'Subnet', show: (r) => String(r.netuid), numeric: true },
  { key: 'miner', label: 'Miner', show: (r) => short(r.miner), full: (r) => r.miner, mono: true },
  {
    key: 'challenger',
    label: 'Challenger',
    show: (r) => short(r.challenger),
    full: (r) => r.challenger,
    mono: true,
  },
  {
    key: 'receipt',
    label: 'Receipt',
    show: (r) => short(r.receiptDigest),
    full: (r) => r.receiptDigest,
    mono: true,
  },
  { key: 'state', label: 'State', show: (r) => r.state, sortBy: (r) => stateOrder[r.state] },
  { key: 'rounds', label: 'Rounds', show: (r) => String(r.rounds), numeric: true },
  {
    key: 'range',
    label: 'Bisection range',
    show: (r) =>
      r.range ? `${r.phase}: leaves ${r.range.from}–${r.range.to - 1n}` : r.outcome ? '' : r.phase,
  },
  { key: 'outcome', label: 'Outcome', show: (r) => r.outcome },
  {
    key: 'slashed',
    label: 'Slashed (VTY)',
    show: (r) => vty(r.slashed),
    sortBy: (r) => r.slashed,
    numeric: true,
  },
  {
    key: 'bond',
    label: 'Bond (VTY)',
    show: (r) => vty(r.bond),
    sortBy: (r) => r.bond,
    numeric: true,
  },
]

/** Every dispute of the deployment's game, open ones first; a row opens its move log. */
export function Disputes({ config }: { config: DashboardConfig }) {
  const client = useMemo(() => chainClient(config), [config])
  const game = config.deployment.contracts.disputeGame
  const [rows, setRows] = useState<DisputeRow[] | Error>()
  const [open, setOpen] = useState<DisputeRow>()

  useEffect(() => {
    if (!game) return
    const abort = new AbortController()
    readDisputes(client, game, config.deployment.block, { signal: abort.signal }).then(
      setRows,
      (e: Error) => setRows(e),
    )
    return () => abort.abort()
  }, [client, game, config])

  if (!game) return <p>No dispute game is named on this deployment.</p>
  if (rows === undefined) return <p role="status">Reading the dispute game…</p>
  if (rows instanceof Error)
    return (
      <p role="alert" class="bad">
        Cannot read the disputes at {config.rpcUrl}: {rows.message}
      </p>
    )
  if (rows.length === 0) return <p id="no-disputes">No dispute has been opened on this chain.</p>
  const undecided = rows.filter((r) => r.state !== 'decided').length
  return (
    <>
      <p>
        Dispute game <code class="wrap">{game}</code>
      </p>
      <SortableTable
        id="disputes"
        label="Disputes"
        caption={`Disputes: ${rows.length}, ${undecided} undecided`}
        columns={DISPUTE_COLUMNS}
        rows={rows}
        rowKey={(r) => String(r.id)}
        onOpen={setOpen}
        selected={open ? String(open.id) : undefined}
      />
      {open && (
        <MoveLog
          config={config}
          game={game}
          dispute={open}
          onClose={() => setOpen(undefined)}
          key={String(open.id)}
        />
      )}
    </>
  )
}

function MoveLog(props: {
  config: DashboardConfig
  game: `0x${string}`
  dispute: DisputeRow
  onClose: () => void
}) {
  const { dispute } = props
  const client = useMemo(() => chainClient(props.config), [props.config])
  const [read, setRead] = useState<{ moves: DisputeMove[]; log: DisputeLog } | Error>()
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => {
    heading.current?.focus()
    const abort = new AbortController()
    readMoveLog(client, props.game, dispute.id, dispute.openedBlock, { signal: abort.signal }).then(
      setRead,
      (e: Error) => setRead(e),
    )
    return () => abort.abort()
  }, [client, props.game, dispute])
  return (
    <section id="dispute-log" aria-labelledby="dispute-log-title">
      <h2 id="dispute-log-title" tabIndex={-1} ref={heading}>
        Dispute {String(dispute.id)}
      </h2>
      <button type="button" onClick={props.onClose}>
        Close
      </button>
      {read === undefined ? (
        <p role="status">Reading its moves…</p>
      ) : read instanceof Error ? (
        <p role="alert" class="bad">
          Cannot read the dispute's moves: {read.message}
        </p>
      ) : (
        <>
          <dl class="facts">
            <dt>Miner</dt>
            <dd>
              <code class="wrap">{dispute.miner}</code>
            </dd>
            <dt>Challenger</dt>
            <dd>
              <code class="wrap">{dispute.challenger}</code>
            </dd>
            <dt>Receipt</dt>
            <dd>
              <code class="wrap">{dispute.receiptDigest}</code>
            </dd>
            <dt>Claimed root</dt>
            <dd>
              <code class="wrap">{read.log.claimedRoot ?? 'none'}</code>
            </dd>
            <dt>Nodes revealed</dt>
            <dd>
              {[...read.log.revealed]
                .map(([phase, nodes]) => `${nodes.size} in ${phaseName(phase)}`)
                .join(', ') || 'none'}
            </dd>
            {read.log.vecRoot && (
              <>
                <dt>Disputed op's vecRoot</dt>
                <dd>
                  <code class="wrap">{read.log.vecRoot}</code>
                </dd>
              </>
            )}
            <dt>Outcome</dt>
            <dd>{dispute.outcome || 'undecided'}</dd>
            {read.log.slashed && (
              <>
                <dt>Slashed, paid to the challenger</dt>
                <dd>
                  {vty(read.log.slashed.slashed)} VTY, {vty(read.log.slashed.paid)} VTY
                </dd>
              </>
            )}
          </dl>
          <SortableTable
            id="moves"
            label={`Moves of dispute ${dispute.id}`}
            caption={`Events of dispute ${dispute.id}, in chain order: ${read.moves.length}`}
            columns={MOVE_COLUMNS}
            rows={read.moves.map((m, i) => ({ ...m, n: i + 1 }))}
            rowKey={(m) => String(m.n)}
          />
        </>
      )}
    </section>
  )
}

const MOVE_COLUMNS: Column<DisputeMove & { n: number }>[] = [
  { key: 'n', label: '#', show: (m) => String(m.n), sortBy: (m) => m.n, numeric: true },
  {
    key: 'block',
    label: 'Block',
    show: (m) => String(m.block),
    sortBy: (m) => m.block,
    numeric: true,
  },
  { key: 'name', label: 'Event', show: (m) => m.name },
  { key: 'detail', label: 'Detail', show: (m) => m.detail },
]
