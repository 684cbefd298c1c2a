// Verity's native int8 kernel: the same exact int32 sums as the WebAssembly kernel
// (src/runtime/kernels/wasm/kernels.wat) and the TypeScript reference, with x86's AVX2 where the
// CPU has it and portable C++ elsewhere. Integer only: every product and sum is exact
// (|sum| <= 65536 * 128 * 128 = 2^30), so the bits are the same whatever the instruction set;
// the kernel conformance suite (src/runtime/kernels/kernel.case.ts) checks it. Loaded through
// Node-API by src/parallel/native.ts and built at install by scripts/build-native.mjs; the arena
// is the caller's (shared) WebAssembly memory, so worker threads call it on bands of rows.
#include <node_api.h>
#include <stdint.h>
#include <vector>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define VERITY_X86 1
#endif

namespace {

// The input vectors widened to int16 once per call and shared by every row (thread-local:
// worker threads call in parallel).
thread_local std::vector<int16_t> widened;

int32_t dot_portable(const int8_t* row, size_t cols, const int16_t* x) {
  int32_t s = 0;
  for (size_t j = 0; j < cols; j++) s += int32_t(row[j]) * int32_t(x[j]);
  return s;
}

#ifdef VERITY_X86
__attribute__((target("avx2"))) inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// One row against one widened vector, 64 columns per step into four independent accumulators:
// each weight byte is sign-extended to int16 (vpmovsxbw) and pairs are multiplied and added
// exactly into int32 lanes (vpmaddwd). One row at a time keeps one sequential stream, which the
// hardware prefetcher follows: interleaving four rows streamed large matrices at half the speed.
__attribute__((target("avx2"))) int32_t dot_avx2(const int8_t* row, size_t cols, const int16_t* x) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t j = 0;
#define VERITY_STEP(acc, k)                                                                   \
  acc = _mm256_add_epi32(                                                                     \
      acc, _mm256_madd_epi16(                                                                 \
               _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + j + k))), \
               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + j + k))))
  for (size_t end = cols & ~size_t(63); j < end; j += 64) {
    VERITY_STEP(a0, 0);
    VERITY_STEP(a1, 16);
    VERITY_STEP(a2, 32);
    VERITY_STEP(a3, 48);
  }
  for (size_t end = cols & ~size_t(15); j < end; j += 16) VERITY_STEP(a0, 0);
#undef VERITY_STEP
  int32_t s = hsum(_mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)));
  for (; j < cols; j++) s += int32_t(row[j]) * int32_t(x[j]);
  return s;
}

const bool has_avx2 = __builtin_cpu_supports("avx2");
#else
const bool has_avx2 = false;
#endif

// acc[v * stride + r] = sum_j w[r * cols + j] * x[v * cols + j] for r < rows, v < n. Each row
// meets every vector while it is in cache (prefill), then the next row is streamed.
void matmul(const int8_t* w, size_t rows, size_t cols, const int8_t* x, size_t n, int32_t* acc,
            size_t stride) {
  if (widened.size() < n * cols) widened.resize(n * cols);
  int16_t* xs = widened.data();
  for (size_t i = 0; i < n * cols; i++) xs[i] = x[i];
  for (size_t r = 0; r < rows; r++) {
    const int8_t* row = w + r * cols;
    for (size_t v = 0; v < n; v++) {
#ifdef VERITY_X86
      if (has_avx2) {
        acc[v * stride + r] = dot_avx2(row, cols, xs + v * cols);
        continue;
      }
#endif
      acc[v * stride + r] = dot_portable(row, cols, xs + v * cols);
    }
  }
}

napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, "VERITY_NATIVE_KERNEL", message);
  return nullptr;
}

// matmul(arena: Int8Array, w, rows, cols, x, n, acc, stride), all byte offsets into the arena
// but stride (in int32s). The JavaScript caller has checked the ranges already
// (src/runtime/kernels/arena.ts); they are checked again here because a wrong offset would
// read or write outside the arena, in the process's own memory.
napi_value Matmul(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 8)
    return fail(env, "matmul: expected 8 arguments (arena, w, rows, cols, x, n, acc, stride)");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != napi_int8_array)
    return fail(env, "matmul: the arena must be an Int8Array");
  uint32_t a[7];
  for (int i = 0; i < 7; i++)
    if (napi_get_value_uint32(env, argv[i + 1], &a[i]) != napi_ok)
      return fail(env, "matmul: offsets and sizes must be numbers");
  uint64_t w = a[0], rows = a[1], cols = a[2], x = a[3], n = a[4], acc = a[5], stride = a[6];
  if (cols > 65536) return fail(env, "matmul: cols exceeds 65536");
  if (acc % 4 != 0) return fail(env, "matmul: acc must be a 4-aligned byte offset");
  if (n > 1 && stride < rows) return fail(env, "matmul: stride is below rows");
  uint64_t accEnd = n == 0 || rows == 0 ? acc : acc + 4 * ((n - 1) * stride + rows);
  if (w + rows * cols > length || x + n * cols > length || accEnd > length)
    return fail(env, "matmul: a range extends past the arena");
  int8_t* base = static_cast<int8_t*>(data);
  matmul(base + w, rows, cols, base + x, n, reinterpret_cast<int32_t*>(base + acc), stride);
  return nullptr;
}

napi_value Isa(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_string_utf8(env, has_avx2 ? "avx2" : "portable", NAPI_AUTO_LENGTH, &out);
  return out;
}

}  // namespace

// native/ops.cc: the element-wise ops (SwiGLU, attention).
void register_ops(napi_env env, napi_value exports);

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "matmul", NAPI_AUTO_LENGTH, Matmul, nullptr, &fn);
  napi_set_named_property(env, exports, "matmul", fn);
  napi_create_function(env, "isa", NAPI_AUTO_LENGTH, Isa, nullptr, &fn);
  napi_set_named_property(env, exports, "isa", fn);
  register_ops(env, exports);
  return exports;
}
