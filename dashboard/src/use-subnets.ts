import { useEffect, useState } from 'preact/hooks'
import type { Address } from 'viem'
import type { chainClient } from './config.ts'
import { readSubnets, type SubnetSummary } from './metagraph.ts'

/**
 * The chain's subnets and the one a page shows: the first subnet once they are read, then the
 * user's pick. Pages that show one subnet at a time (metagraph, emissions) share it.
 */
export function useSubnets(client: ReturnType<typeof chainClient>, verity: Address) {
  const [subnets, setSubnets] = useState<SubnetSummary[] | Error>()
  const [netuid, setNetuid] = useState<number>()
  useEffect(() => {
    const abort = new AbortController()
    readSubnets(client, verity, { signal: abort.signal }).then(
      (list) => {
        setSubnets(list)
        if (list[0]) setNetuid(list[0].netuid)
      },
      (e: Error) => setSubnets(e),
    )
    return () => abort.abort()
  }, [client, verity])
  return { subnets, netuid, setNetuid }
}
