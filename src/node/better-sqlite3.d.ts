// Minimal types for the parts of better-sqlite3 the node uses (@types/better-sqlite3 is not
// installed; adding it is a package.json change for the lead).
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number
      lastInsertRowid: number | bigint
    }
    interface Statement {
      run(...params: unknown[]): RunResult
      get(...params: unknown[]): unknown
      all(...params: unknown[]): unknown[]
    }
    interface Database {
      readonly open: boolean
      prepare(sql: string): Statement
      exec(sql: string): this
      pragma(source: string): unknown
      transaction<F extends (...args: never[]) => unknown>(fn: F): F
      close(): this
    }
  }
  const Database: new (filename: string, options?: Record<string, unknown>) => Database.Database
  export default Database
}
