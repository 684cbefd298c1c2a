import { useEffect, useMemo, useState } from 'preact/hooks'
import { formatEther } from 'viem'
import { chainClient, type DashboardConfig } from '../config.ts'
import { type EmissionHistory, readEmissionHistory, shortHotkey } from '../emissions.ts'
import { useSubnets } from '../use-subnets.ts'
import { LineChart, type Series } from './LineChart.tsx'

const SPANS = [5, 10, 20, 50]

/** Each uid's emission and incentive over a subnet's last epochs, and the subnet's total. */
export function Emissions({ config }: { config: DashboardConfig }) {
  const client = useMemo(() => chainClient(config), [config])
  const verity = config.deployment.contracts.verity
  const { subnets, netuid, setNetuid } = useSubnets(client, verity)
  const [span, setSpan] = useState(10)
  const [history, setHistory] = useState<EmissionHistory | Error>()

  useEffect(() => {
    if (netuid === undefined) return
    const abort = new AbortController()
    setHistory(undefined)
    readEmissionHistory(client, verity, netuid, span, {
      signal: abort.signal,
      fromBlock: config.deployment.block,
    }).then(setHistory, (e: Error) => setHistory(e))
    return () => abort.abort()
  }, [client, verity, netuid, span, config.deployment.block])

  const charts = useMemo(() => {
    if (!history || history instanceof Error || history.epochs.length === 0) return undefined
    const { epochs, hotkeys } = history
    const label = (uid: number) => `uid ${uid} ${shortHotkey(hotkeys[uid] ?? '')}`
    const uids = hotkeys.map((_, uid) => uid)
    const emission: Series[] = uids.map((uid) => {
      const wei = epochs.map((e) => e.emission[uid] ?? 0n)
      return {
        label: label(uid),
        values: wei.map((w) => Number(formatEther(w))),
        shown: wei.map((w) => formatEther(w)),
      }
    })
    const incentive: Series[] = uids.map((uid) => {
      const x = epochs.map((e) => e.incentive[uid] ?? 0)
      return { label: label(uid), values: x, shown: x.map((v) => v.toFixed(4)) }
    })
    const total: Series[] = [
      {
        label: `subnet ${netuid}`,
        values: epochs.map((e) => Number(formatEther(e.total))),
        shown: epochs.map((e) => formatEther(e.total)),
      },
    ]
    return { x: epochs.map((e) => e.epoch), emission, incentive, total }
  }, [history, netuid])

  if (subnets === undefined) return <p role="status">Reading the chain…</p>
  if (subnets instanceof Error)
    return (
      <p role="alert" class="bad">
        Cannot read the chain at {config.rpcUrl}: {subnets.message}
      </p>
    )
  if (subnets.length === 0) return <p>No subnet on this chain yet.</p>
  return (
    <>
      <p class="row">
        <label for="emissions-netuid">Subnet</label>{' '}
        <select
          id="emissions-netuid"
          value={netuid}
          onChange={(e) => setNetuid(Number((e.target as HTMLSelectElement).value))}
        >
          {subnets.map((s) => (
            <option value={s.netuid} key={s.netuid}>
              {s.netuid}
            </option>
          ))}
        </select>{' '}
        <label for="emissions-span">Epochs</label>{' '}
        <select
          id="emissions-span"
          value={span}
          onChange={(e) => setSpan(Number((e.target as HTMLSelectElement).value))}
        >
          {SPANS.map((n) => (
            <option value={n} key={n}>
              last {n}
            </option>
          ))}
        </select>
      </p>
      {history === undefined ? (
        <p role="status">Reading the epochs…</p>
      ) : history instanceof Error ? (
        <p role="alert" class="bad">
          {history.message}
        </p>
      ) : !charts ? (
        <p>Subnet {netuid} has not finished an epoch yet.</p>
      ) : (
        <>
          <p>
            Epochs {charts.x[0]} to {charts.x.at(-1)}, read from the chain at the block that
            finished each one.
          </p>
          <LineChart
            id="chart-emission"
            title={`Emission per uid, subnet ${netuid}`}
            unit="VTY"
            epochs={charts.x}
            series={charts.emission}
          />
          <LineChart
            id="chart-incentive"
            title={`Incentive per uid, subnet ${netuid}`}
            unit="share"
            epochs={charts.x}
            series={charts.incentive}
          />
          <LineChart
            id="chart-total"
            title={`Emission distributed, subnet ${netuid}`}
            unit="VTY"
            epochs={charts.x}
            series={charts.total}
          />
        </>
      )}
    </>
  )
}
