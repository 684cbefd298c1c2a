import { defineConfig } from 'vitest/config'

// The llama.cpp cross-check: run with `npm run test:crosscheck` after `npm --prefix crosscheck install`.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
})
