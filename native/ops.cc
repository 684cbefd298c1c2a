// The forward pass's element-wise ops in native code: SwiGLU, attention (scores, softmax, the
// value mix), RMSNorm, and the projections' activation quantization and requantization, bit-identical to the TypeScript reference in src/runtime/ops and
// src/runtime/fixed (docs/DETERMINISM.md). The reference computes on doubles that stay exact
// integers below 2^53; here the same integers live in int64, and every helper below is the
// reference's, step for step: roundShift is floor((v + 2^(s-1)) / 2^s), roundDiv is
// floor((2a + b) / 2b), sat32 clamps to [-INT32_MAX, INT32_MAX]. The ops conformance test
// (src/parallel/ops.test.ts) compares both on random and extreme inputs.
#include <node_api.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <algorithm>
#include <vector>

namespace {

constexpr int64_t INT32_MAX_ = 0x7fffffff;
constexpr int64_t LOG2E_Q30 = 1549082005;
constexpr int64_t LN2_Q26 = 46516320;
constexpr int64_t EXP_MIN_Q16 = -32 * 65536;

// EXP2_TABLE of src/runtime/fixed/exp.ts, handed over once by the loader (setExpTable): the
// table is made by the reference's BigInt routines, so both sides read the same numbers.
int32_t exp2_table[256];
bool exp_table_set = false;

inline int64_t sat32(int64_t v) { return v > INT32_MAX_ ? INT32_MAX_ : v < -INT32_MAX_ ? -INT32_MAX_ : v; }

// round(v / 2^s), ties toward +infinity; a left shift for s < 0. |v| < 2^52 as in the reference;
// left shifts that leave int64 saturate far beyond int32 (every caller clamps with sat32).
inline int64_t round_shift(int64_t v, int64_t s) {
  if (s > 0) return s >= 63 ? 0 : (v + (int64_t(1) << (s - 1))) >> s;
  if (s == 0 || v == 0) return v;
  if (-s >= 40) return v > 0 ? (int64_t(1) << 62) : -(int64_t(1) << 62);
  __int128 p = static_cast<__int128>(v) << -s;
  const __int128 cap = static_cast<__int128>(1) << 62;
  return static_cast<int64_t>(p > cap ? cap : p < -cap ? -cap : p);
}

// floor(a / b) for b > 0.
inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

inline int64_t round_div(int64_t a, int64_t b) { return floor_div(2 * a + b, 2 * b); }

inline int64_t bit_length(int64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(static_cast<uint64_t>(v)); }

// round(a / b), ties away from zero, for b > 0 (roundDivSym).
inline int64_t round_div_sym(int64_t a, int64_t b) {
  return a < 0 ? -floor_div(-2 * a + b, 2 * b) : floor_div(2 * a + b, 2 * b);
}

// floor(sqrt(v)) for 0 <= v < 2^53: the double estimate corrected, as isqrt.
inline int64_t isqrt(int64_t v) {
  if (v <= 0) return 0;
  int64_t s = static_cast<int64_t>(floor(sqrt(static_cast<double>(v))));
  while (s * s > v) s--;
  while ((s + 1) * (s + 1) <= v) s++;
  return s;
}

inline int64_t max_abs(const int32_t* x, uint64_t n) {
  int64_t m = 0;
  for (uint64_t j = 0; j < n; j++) {
    int64_t a = x[j] < 0 ? -int64_t(x[j]) : x[j];
    if (a > m) m = a;
  }
  return m;
}

// expQ30 of src/runtime/fixed/exp.ts: e^(d / 2^16) in Q30 for d <= 0.
inline int64_t exp_q30(int64_t d) {
  if (d < EXP_MIN_Q16) return 0;
  int64_t u = round_shift(-d * LOG2E_Q30, 20);
  int64_t n = u >> 26;
  int64_t r = u - (n << 26);
  int64_t i = r >> 18;
  int64_t f = r & 0x3ffff;
  int64_t y = round_shift(f * LN2_Q26, 26);
  int64_t p = 67108864 - y + round_shift(y * y, 27);
  return round_shift(static_cast<int64_t>(exp2_table[i]) * p, 22 + n);
}

inline int64_t sigmoid_q16(int64_t g) {
  if (g >= 0) return round_div(int64_t(1) << 46, (int64_t(1) << 30) + exp_q30(-g));
  int64_t e = exp_q30(g);
  return round_div(e * 65536, (int64_t(1) << 30) + e);
}

inline int32_t swiglu_element(int64_t g, int64_t u) {
  int64_t silu = sat32(round_shift(g * sigmoid_q16(g), 16));
  int64_t uh = u >> 16;  // floor(u / 65536)
  int64_t ul = u - uh * 65536;
  return static_cast<int32_t>(sat32(silu * uh + round_shift(silu * ul, 16)));
}

napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, "VERITY_NATIVE_OPS", message);
  return nullptr;
}

// An Int32Array argument: its data and length, or false.
bool i32_array(napi_env env, napi_value value, int32_t** data, size_t* length) {
  napi_typedarray_type type;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &buffer, &offset) != napi_ok ||
      type != napi_int32_array)
    return false;
  *data = static_cast<int32_t*>(raw);
  return true;
}

// Sizes and offsets: integers in [0, 2^32) (napi_get_value_uint32 would wrap -1 silently).
bool u32_args(napi_env env, napi_value* argv, size_t count, uint64_t* out) {
  for (size_t i = 0; i < count; i++) {
    double v;
    if (napi_get_value_double(env, argv[i], &v) != napi_ok || !(v >= 0) || v >= 4294967296.0 ||
        v != static_cast<double>(static_cast<uint64_t>(v)))
      return false;
    out[i] = static_cast<uint64_t>(v);
  }
  return true;
}

// Reads exactly `expected` arguments.
bool args(napi_env env, napi_callback_info info, size_t expected, napi_value* argv) {
  size_t argc = expected;
  return napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok && argc == expected;
}

// setExpTable(table: Int32Array of 256)
napi_value SetExpTable(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t* t;
  size_t n;
  if (!args(env, info, 1, argv) || !i32_array(env, argv[0], &t, &n) || n != 256)
    return fail(env, "setExpTable: expected one Int32Array of 256 entries");
  memcpy(exp2_table, t, sizeof exp2_table);
  exp_table_set = true;
  return nullptr;
}

// swiglu(gate, up, out, off, n): out[off + j] = swigluElement(gate[off + j], up[off + j]).
napi_value Swiglu(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t *gate, *up, *out;
  size_t lg, lu, lo;
  uint64_t a[2];
  if (!args(env, info, 5, argv) || !i32_array(env, argv[0], &gate, &lg) ||
      !i32_array(env, argv[1], &up, &lu) || !i32_array(env, argv[2], &out, &lo) ||
      !u32_args(env, argv + 3, 2, a))
    return fail(env, "swiglu: expected (gate, up, out: Int32Array, off, n)");
  if (!exp_table_set) return fail(env, "swiglu: setExpTable was not called");
  uint64_t off = a[0], n = a[1];
  if (off + n > lg || off + n > lu || off + n > lo) return fail(env, "swiglu: a range extends past an array");
  for (uint64_t j = off; j < off + n; j++) out[j] = swiglu_element(gate[j], up[j]);
  return nullptr;
}

// attentionScores(q, qOff, k16, kShift, t, nHeads, nKvHeads, headDim, c, scores): every head's
// scores against keys 0..t (headScores with the query reduced by reduce16), scores[h * (t+1) + s].
napi_value AttentionScores(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  int32_t *q, *k16, *kShift, *scores;
  size_t lq, lk, ls, lsc;
  uint64_t a[6];
  if (!args(env, info, 10, argv) || !i32_array(env, argv[0], &q, &lq) ||
      !i32_array(env, argv[2], &k16, &lk) || !i32_array(env, argv[3], &kShift, &ls) ||
      !i32_array(env, argv[9], &scores, &lsc) || !u32_args(env, argv + 4, 5, a + 1) ||
      !u32_args(env, argv + 1, 1, a))
    return fail(env, "attentionScores: expected (q, qOff, k16, kShift, t, nHeads, nKvHeads, headDim, c, scores)");
  uint64_t qOff = a[0], t = a[1], nHeads = a[2], nKv = a[3], hd = a[4], c = a[5];
  uint64_t n = t + 1, kvDim = nKv * hd;
  if (nKv == 0 || hd == 0 || nHeads % nKv != 0 || hd > 4096)
    return fail(env, "attentionScores: heads must be a multiple of KV heads, headDim in 1..4096");
  if (qOff + nHeads * hd > lq || n * kvDim > lk || n * nKv > ls || nHeads * n > lsc)
    return fail(env, "attentionScores: a range extends past an array");
  uint64_t group = nHeads / nKv;
  thread_local std::vector<int64_t> q16;
  q16.resize(hd);
  for (uint64_t h = 0; h < nHeads; h++) {
    const int32_t* qh = q + qOff + h * hd;
    int64_t amax = 0;
    for (uint64_t j = 0; j < hd; j++) {
      int64_t v = qh[j] < 0 ? -int64_t(qh[j]) : qh[j];
      if (v > amax) amax = v;
    }
    int64_t shq = bit_length(amax) - 15;
    if (shq < 0) shq = 0;
    for (uint64_t j = 0; j < hd; j++) q16[j] = round_shift(qh[j], shq);
    uint64_t g = h / group;
    int32_t* out = scores + h * n;
    for (uint64_t s = 0; s < n; s++) {
      const int32_t* k = k16 + s * kvDim + g * hd;
      int64_t dot = 0;
      for (uint64_t j = 0; j < hd; j++) dot += q16[j] * k[j];
      out[s] = static_cast<int32_t>(sat32(round_shift(dot * int64_t(c), 32 - shq - kShift[s * nKv + g])));
    }
  }
  return nullptr;
}

// softmaxRows(scores, rows, n, probs): softmax of each row of n Q16 scores into Q16 probabilities.
napi_value SoftmaxRows(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t *scores, *probs;
  size_t ls, lp;
  uint64_t a[2];
  if (!args(env, info, 4, argv) || !i32_array(env, argv[0], &scores, &ls) ||
      !i32_array(env, argv[3], &probs, &lp) || !u32_args(env, argv + 1, 2, a))
    return fail(env, "softmaxRows: expected (scores, rows, n, probs)");
  if (!exp_table_set) return fail(env, "softmaxRows: setExpTable was not called");
  uint64_t rows = a[0], n = a[1];
  if (rows * n > ls || rows * n > lp) return fail(env, "softmaxRows: a range extends past an array");
  thread_local std::vector<int64_t> e;
  e.resize(n);
  for (uint64_t r = 0; r < rows; r++) {
    const int32_t* s = scores + r * n;
    int64_t max = INT64_MIN;
    for (uint64_t i = 0; i < n; i++) if (s[i] > max) max = s[i];
    int64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) sum += (e[i] = exp_q30(int64_t(s[i]) - max));
    int32_t* p = probs + r * n;
    for (uint64_t i = 0; i < n; i++) p[i] = static_cast<int32_t>(round_div(e[i] * 65536, sum));
  }
  return nullptr;
}

// attentionMix(probs, vCache, t, nHeads, nKvHeads, headDim, mix, mixOff): every head's
// mixValues: mix[mixOff + h * headDim + j] = sat32(roundShift(sum_s P_hs v_s,g,j, 16)).
napi_value AttentionMix(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  int32_t *probs, *v, *mix;
  size_t lp, lv, lm;
  uint64_t a[5];
  if (!args(env, info, 8, argv) || !i32_array(env, argv[0], &probs, &lp) ||
      !i32_array(env, argv[1], &v, &lv) || !i32_array(env, argv[6], &mix, &lm) ||
      !u32_args(env, argv + 2, 4, a) || !u32_args(env, argv + 7, 1, a + 4))
    return fail(env, "attentionMix: expected (probs, vCache, t, nHeads, nKvHeads, headDim, mix, mixOff)");
  uint64_t t = a[0], nHeads = a[1], nKv = a[2], hd = a[3], mixOff = a[4];
  uint64_t n = t + 1, kvDim = nKv * hd;
  if (nKv == 0 || hd == 0 || nHeads % nKv != 0 || hd > 4096)
    return fail(env, "attentionMix: heads must be a multiple of KV heads, headDim in 1..4096");
  if (nHeads * n > lp || n * kvDim > lv || mixOff + nHeads * hd > lm)
    return fail(env, "attentionMix: a range extends past an array");
  uint64_t group = nHeads / nKv;
  thread_local std::vector<int64_t> acc;
  acc.resize(hd);
  for (uint64_t h = 0; h < nHeads; h++) {
    uint64_t g = h / group;
    std::fill(acc.begin(), acc.end(), 0);
    const int32_t* p = probs + h * n;
    for (uint64_t s = 0; s < n; s++) {
      int64_t ps = p[s];
      if (ps == 0) continue;
      const int32_t* vs = v + s * kvDim + g * hd;
      for (uint64_t j = 0; j < hd; j++) acc[j] += ps * vs[j];
    }
    int32_t* out = mix + mixOff + h * hd;
    for (uint64_t j = 0; j < hd; j++) out[j] = static_cast<int32_t>(sat32(round_shift(acc[j], 16)));
  }
  return nullptr;
}

// An Int8Array or Float64Array argument, like i32_array.
template <napi_typedarray_type Want, typename T>
bool typed_array(napi_env env, napi_value value, T** data, size_t* length) {
  napi_typedarray_type type;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &buffer, &offset) != napi_ok || type != Want)
    return false;
  *data = static_cast<T*>(raw);
  return true;
}

// quantizeActivation(x, off, n, out: Int8Array, outOff, scale: Int32Array): out = the int8 form
// of x[off..off+n), scale[0..2) = [m, e] (activationScale; [0, 0] for an all-zero vector).
napi_value QuantizeActivation(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t *x, *scale;
  int8_t* out;
  size_t lx, lo, ls;
  uint64_t a[2], b[1];
  if (!args(env, info, 6, argv) || !i32_array(env, argv[0], &x, &lx) ||
      !typed_array<napi_int8_array>(env, argv[3], &out, &lo) || !i32_array(env, argv[5], &scale, &ls) ||
      !u32_args(env, argv + 1, 2, a) || !u32_args(env, argv + 4, 1, b))
    return fail(env, "quantizeActivation: expected (x: Int32Array, off, n, out: Int8Array, outOff, scale: Int32Array)");
  uint64_t off = a[0], n = a[1], outOff = b[0];
  if (off + n > lx || outOff + n > lo || ls < 2) return fail(env, "quantizeActivation: a range extends past an array");
  const int32_t* v = x + off;
  int8_t* q = out + outOff;
  int64_t amax = max_abs(v, n);
  if (amax == 0) {
    memset(q, 0, n);
    scale[0] = scale[1] = 0;
    return nullptr;
  }
  // activationScale: e = 19 - bitLength(amax), m = ceil(amax 2^e / 127), once more with e - 1
  // above 4095.
  int64_t e = 19 - bit_length(amax);
  auto ceil_scaled = [amax](int64_t e) {
    return e >= 0 ? -floor_div(-amax * (int64_t(1) << e), 127) : -floor_div(-amax, 127 * (int64_t(1) << -e));
  };
  int64_t m = ceil_scaled(e);
  if (m > 4095) m = ceil_scaled(--e);
  if (e >= 0) {
    int64_t p = int64_t(1) << e;
    for (uint64_t j = 0; j < n; j++) q[j] = static_cast<int8_t>(round_div_sym(v[j] * p, m));
  } else {
    int64_t d = m << -e;
    for (uint64_t j = 0; j < n; j++) q[j] = static_cast<int8_t>(round_div_sym(v[j], d));
  }
  scale[0] = static_cast<int32_t>(m);
  scale[1] = static_cast<int32_t>(e);
  return nullptr;
}

// requantize(acc, accOff, rows, scaleM, scaleE, bias | null, mx, ex, out, outOff): a
// projection's int32 sums to Q16, y_r = sat32(roundShift(acc_r * (m_r * mx), e_r + ex) + b_r).
napi_value Requantize(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  int32_t *acc, *sm, *se, *bias = nullptr, *out;
  size_t la, lm, le, lb = 0, lo;
  uint64_t a[2], o[1];
  int32_t mx, ex;
  napi_valuetype biasType;
  if (!args(env, info, 10, argv) || !i32_array(env, argv[0], &acc, &la) ||
      !i32_array(env, argv[3], &sm, &lm) || !i32_array(env, argv[4], &se, &le) ||
      !i32_array(env, argv[8], &out, &lo) || !u32_args(env, argv + 1, 2, a) ||
      !u32_args(env, argv + 9, 1, o) || napi_typeof(env, argv[5], &biasType) != napi_ok ||
      napi_get_value_int32(env, argv[6], &mx) != napi_ok || napi_get_value_int32(env, argv[7], &ex) != napi_ok)
    return fail(env, "requantize: expected (acc, accOff, rows, scaleM, scaleE, bias | null, mx, ex, out, outOff)");
  if (biasType != napi_null && !i32_array(env, argv[5], &bias, &lb))
    return fail(env, "requantize: bias must be an Int32Array or null");
  uint64_t accOff = a[0], rows = a[1], outOff = o[0];
  if (accOff + rows > la || rows > lm || rows > le || outOff + rows > lo || (bias && rows > lb))
    return fail(env, "requantize: a range extends past an array");
  int32_t* y = out + outOff;
  const int32_t* s = acc + accOff;
  if (mx == 0) {
    for (uint64_t r = 0; r < rows; r++) y[r] = bias ? bias[r] : 0;
    return nullptr;
  }
  for (uint64_t r = 0; r < rows; r++) {
    int64_t v = s[r];
    int64_t p = v == 0 ? 0 : round_shift(v * (int64_t(sm[r]) * mx), int64_t(se[r]) + ex);
    y[r] = static_cast<int32_t>(sat32(bias ? p + bias[r] : p));
  }
  return nullptr;
}

// rmsnorm(x, off, n, g, epsQ, out, outOff): RMSNorm of x[off..off+n) with gains g.
napi_value Rmsnorm(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int32_t *x, *g, *out;
  size_t lx, lg, lo;
  uint64_t a[2], o[1];
  double epsD;
  if (!args(env, info, 7, argv) || !i32_array(env, argv[0], &x, &lx) || !i32_array(env, argv[3], &g, &lg) ||
      !i32_array(env, argv[5], &out, &lo) || !u32_args(env, argv + 1, 2, a) || !u32_args(env, argv + 6, 1, o) ||
      napi_get_value_double(env, argv[4], &epsD) != napi_ok || !(epsD >= 0) || epsD >= 9007199254740992.0 ||
      epsD != floor(epsD))
    return fail(env, "rmsnorm: expected (x, off, n, g, epsQ: a non-negative integer, out, outOff)");
  uint64_t off = a[0], n = a[1], outOff = o[0];
  if (n == 0 || n > 65536) return fail(env, "rmsnorm: n must be in 1..65536");
  if (off + n > lx || n > lg || outOff + n > lo) return fail(env, "rmsnorm: a range extends past an array");
  const int32_t* v = x + off;
  int32_t* y = out + outOff;
  int64_t amax = max_abs(v, n);
  if (amax == 0) {
    memset(y, 0, n * sizeof(int32_t));
    return nullptr;
  }
  int64_t sh = bit_length(amax) - 20;
  if (sh < -8) sh = -8;
  int64_t ss = 0;
  for (uint64_t j = 0; j < n; j++) {
    int64_t xs = round_shift(v[j], sh);
    ss += xs * xs;
  }
  int64_t ms = floor_div(ss, n) + round_shift(static_cast<int64_t>(epsD), 8 + 2 * sh);
  int64_t r = isqrt(ms * 4096);
  if (r == 0) {
    memset(y, 0, n * sizeof(int32_t));
    return nullptr;
  }
  for (uint64_t j = 0; j < n; j++) y[j] = static_cast<int32_t>(sat32(round_div_sym(round_shift(v[j], sh) * g[j] * 64, r)));
  return nullptr;
}

void define(napi_env env, napi_value exports, const char* name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  napi_set_named_property(env, exports, name, fn);
}

}  // namespace

// Called from the module's init in kernels.cc.
void register_ops(napi_env env, napi_value exports) {
  define(env, exports, "setExpTable", SetExpTable);
  define(env, exports, "swiglu", Swiglu);
  define(env, exports, "attentionScores", AttentionScores);
  define(env, exports, "softmaxRows", SoftmaxRows);
  define(env, exports, "attentionMix", AttentionMix);
  define(env, exports, "quantizeActivation", QuantizeActivation);
  define(env, exports, "requantize", Requantize);
  define(env, exports, "rmsnorm", Rmsnorm);
}
