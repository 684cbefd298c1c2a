import { createKernel } from './index.ts'
import { runKernelCases } from './kernel.case.ts'

runKernelCases({ name: 'typescript', create: (bytes) => createKernel('typescript', bytes) })
