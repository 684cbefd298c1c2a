export { decodeRow, rowBytes } from './dequant.ts'
export { floatToHalf, halfToFloat } from './half.ts'
export {
  metaArray,
  metaBool,
  metaInteger,
  metaNumber,
  metaNumberArray,
  metaOptionalArray,
  metaOptionalBool,
  metaOptionalInteger,
  metaOptionalNumber,
  metaOptionalNumberArray,
  metaOptionalString,
  metaOptionalStringArray,
  metaString,
  metaStringArray,
} from './meta.ts'
export { encodeTensorData } from './quantize.ts'
export { type ReadGgufOptions, readGguf } from './read.ts'
export { type ByteSource, bytesSource, toSource } from './source.ts'
export {
  forEachRow,
  optionalTensor,
  type Q8_0Raw,
  tensorByName,
  tensorElementCount,
  tensorRawQ8_0,
  tensorToFloat32,
} from './tensor.ts'
export {
  GGML_TYPE_LAYOUT,
  GgmlType,
  type GgmlTypeName,
  type GgufFile,
  type GgufTensorInfo,
  type GgufValue,
  GgufValueType,
  ggmlTypeLabel,
  ggmlTypeName,
  ggufValueTypeName,
  SUPPORTED_GGML_TYPES,
  SUPPORTED_TYPE_NAMES,
} from './types.ts'
export {
  type GgufArrayWriteValue,
  type GgufLayout,
  type GgufScalarJs,
  type GgufScalarTypeName,
  type GgufScalarWriteValue,
  type GgufTensorHeader,
  type GgufWriteSpec,
  type GgufWriteTensor,
  type GgufWriteValue,
  gguf,
  ggufLayout,
  writeGguf,
} from './write.ts'
