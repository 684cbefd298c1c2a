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
export { type ReadGgufOptions, readGguf } from './read.ts'
export {
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
} from './types.ts'
export {
  type GgufArrayWriteValue,
  type GgufScalarJs,
  type GgufScalarTypeName,
  type GgufScalarWriteValue,
  type GgufWriteSpec,
  type GgufWriteTensor,
  type GgufWriteValue,
  gguf,
  writeGguf,
} from './write.ts'
