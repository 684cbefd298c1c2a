import { useEffect, useMemo, useState } from 'preact/hooks'
import { formatEther } from 'viem'
import { chainClient, type DashboardConfig } from '../config.ts'
import { short } from '../disputes.ts'
import {
  type BidRow,
  type LeaseRow,
  type MarketView,
  type OrderRow,
  type ProviderRow,
  readMarket,
} from '../market.ts'
import { type Column, SortableTable } from '../SortableTable.tsx'

const vty = (wei: bigint) => formatEther(wei)
const money = <Row,>(key: string, label: string, of: (r: Row) => bigint): Column<Row> => ({
  key,
  label,
  show: (r) => vty(of(r)),
  sortBy: of,
  numeric: true,
})
const account = <Row,>(key: string, label: string, of: (r: Row) => string): Column<Row> => ({
  key,
  label,
  show: (r) => short(of(r)),
  sortBy: of,
  full: of,
  mono: true,
})
const id = <Row,>(key: string, label: string, of: (r: Row) => bigint): Column<Row> => ({
  key,
  label,
  show: (r) => String(of(r)),
  sortBy: of,
  numeric: true,
})

export const PROVIDER_COLUMNS: Column<ProviderRow>[] = [
  account('provider', 'Provider', (r) => r.provider),
  { key: 'hostUri', label: 'Host URI', show: (r) => r.hostUri },
  { key: 'attributes', label: 'Attributes', show: (r) => r.attributes.join(', ') },
  {
    key: 'audited',
    label: 'Audited',
    show: (r) => (r.auditedBy.length ? `yes, by ${r.auditedBy.map(short).join(', ')}` : 'no'),
  },
  { key: 'registered', label: 'Registered', show: (r) => (r.registered ? 'yes' : 'no') },
]
export const ORDER_COLUMNS: Column<OrderRow>[] = [
  id('orderId', 'Order', (r) => r.orderId),
  account('tenant', 'Tenant', (r) => r.tenant),
  {
    key: 'spec',
    label: 'Spec',
    show: (r) => `${short(r.specHash)}: ${r.summary}`,
    full: (r) => r.specHash,
  },
  money('max', 'Max price per block (VTY)', (r) => r.maxPricePerBlock),
  { key: 'state', label: 'State', show: (r) => r.state },
  money('escrow', 'Escrow (VTY)', (r) => r.escrow),
]
export const BID_COLUMNS: Column<BidRow>[] = [
  id('bidId', 'Bid', (r) => r.bidId),
  id('orderId', 'Order', (r) => r.orderId),
  account('provider', 'Provider', (r) => r.provider),
  money('price', 'Price per block (VTY)', (r) => r.pricePerBlock),
  money('deposit', 'Deposit (VTY)', (r) => r.deposit),
]
export const LEASE_COLUMNS: Column<LeaseRow>[] = [
  id('leaseId', 'Lease', (r) => r.leaseId),
  account('provider', 'Provider', (r) => r.provider),
  account('tenant', 'Tenant', (r) => r.tenant),
  money('price', 'Price per block (VTY)', (r) => r.pricePerBlock),
  { key: 'state', label: 'State', show: (r) => r.state },
  money('escrow', 'Escrow remaining (VTY)', (r) => r.escrow),
  id('settled', 'Settled to block', (r) => r.settledBlock),
  money('paid', 'Paid (VTY)', (r) => r.paid),
]

/** The compute market's providers, orders, open bids and leases, where the deployment has one. */
export function Market({ config }: { config: DashboardConfig }) {
  const client = useMemo(() => chainClient(config), [config])
  const market = config.deployment.contracts.market
  const [view, setView] = useState<MarketView | Error>()

  useEffect(() => {
    if (!market) return
    const abort = new AbortController()
    readMarket(client, market, config.deployment.block, { signal: abort.signal }).then(
      setView,
      (e: Error) => setView(e),
    )
    return () => abort.abort()
  }, [client, market, config])

  if (!market) return <p id="no-market">There is no compute market on this deployment.</p>
  if (view === undefined) return <p role="status">Reading the market…</p>
  if (view instanceof Error)
    return (
      <p role="alert" class="bad">
        Cannot read the market at {config.rpcUrl}: {view.message}
      </p>
    )
  return (
    <>
      <p>
        Market <code class="wrap">{market}</code>
      </p>
      <h2>Providers</h2>
      <Listing
        id="providers"
        what="providers"
        columns={PROVIDER_COLUMNS}
        rows={view.providers}
        rowKey={(r) => r.provider}
      />
      <h2>Orders</h2>
      <Listing
        id="orders"
        what="orders"
        columns={ORDER_COLUMNS}
        rows={view.orders}
        rowKey={(r) => String(r.orderId)}
      />
      <h2>Open bids</h2>
      <Listing
        id="bids"
        what="open bids"
        columns={BID_COLUMNS}
        rows={view.bids}
        rowKey={(r) => String(r.bidId)}
      />
      <h2>Leases</h2>
      <Listing
        id="leases"
        what="leases"
        columns={LEASE_COLUMNS}
        rows={view.leases}
        rowKey={(r) => String(r.leaseId)}
      />
    </>
  )
}

function Listing<Row>(props: {
  id: string
  what: string
  columns: Column<Row>[]
  rows: Row[]
  rowKey: (r: Row) => string
}) {
  if (props.rows.length === 0) return <p id={`no-${props.id}`}>No {props.what} yet.</p>
  const title = props.what[0]!.toUpperCase() + props.what.slice(1)
  return (
    <SortableTable
      id={props.id}
      label={title}
      caption={`${title}: ${props.rows.length}`}
      columns={props.columns}
      rows={props.rows}
      rowKey={props.rowKey}
    />
  )
}
