import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { type DashboardConfig, loadConfig } from './config.ts'
import { Disputes } from './pages/Disputes.tsx'
import { Emissions } from './pages/Emissions.tsx'
import { Market } from './pages/Market.tsx'
import { Playground } from './pages/Playground.tsx'
import { Receipts } from './pages/Receipts.tsx'
import { Subnets } from './pages/Subnets.tsx'
import './style.css'

const PAGES = {
  subnets: { title: 'Subnets', Page: Subnets },
  emissions: { title: 'Emissions', Page: Emissions },
  receipts: { title: 'Receipts', Page: Receipts },
  playground: { title: 'Playground', Page: Playground },
  disputes: { title: 'Disputes', Page: Disputes },
  market: { title: 'Market', Page: Market },
} as const
type PageName = keyof typeof PAGES

const pageOf = (hash: string): PageName => {
  const name = hash.replace(/^#\/?/, '')
  return name in PAGES ? (name as PageName) : 'subnets'
}

function App() {
  const [page, setPage] = useState<PageName>(pageOf(location.hash))
  const [config, setConfig] = useState<DashboardConfig | Error | undefined>()
  useEffect(() => {
    const onHash = () => setPage(pageOf(location.hash))
    addEventListener('hashchange', onHash)
    const abort = new AbortController()
    loadConfig(abort.signal).then(setConfig, (e: Error) => setConfig(e))
    return () => {
      removeEventListener('hashchange', onHash)
      abort.abort()
    }
  }, [])
  const { title, Page } = PAGES[page]
  useEffect(() => {
    document.title = `${title} · Verity`
  }, [title])
  return (
    <>
      <header>
        <span class="brand">Verity</span>
        <nav aria-label="Pages">
          {Object.entries(PAGES).map(([name, p]) => (
            <a href={`#/${name}`} aria-current={name === page ? 'page' : undefined} key={name}>
              {p.title}
            </a>
          ))}
        </nav>
      </header>
      <main>
        <h1>{title}</h1>
        {config === undefined ? (
          <p role="status">Loading the gateway's configuration…</p>
        ) : config instanceof Error ? (
          <p role="alert" class="bad">
            Cannot load the configuration: {config.message}
          </p>
        ) : (
          <Page config={config} />
        )}
      </main>
    </>
  )
}

render(<App />, document.getElementById('app')!)
