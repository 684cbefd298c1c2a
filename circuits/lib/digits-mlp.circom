pragma circom 2.1.0;

// The digits classifier of src/vision/classify.ts as constraints (docs/DETERMINISM.md, "digits
// classifier"). The weights are template parameters, so they are constants of the circuit: the
// products W x are linear combinations and cost no constraints; every constraint below is a
// range check, a ReLU, a saturation or the argmax.
//
// Public signals (in this order): pixelsPacked[2], scoresPacked, label.
//   pixelsPacked[c] = sum_{i<32} pixel[32c + i] * 2^(5i)       (pixels in [0, 16], 5 bits each)
//   scoresPacked    = sum_{k<10} (score[k] + 2^22) * 2^(23k)    (|score| < 2^22, 23 bits each)
// Both packings are injective because every term is range-bounded, so the 4 public signals say
// exactly "these 64 pixels map to these 10 scores and this label".

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// acc >= 0 ? acc : 0 for |acc| < 2^(n-1): the top bit of acc + 2^(n-1) is the sign.
template Relu(n) {
    signal input in;
    signal output out;
    component bits = Num2Bits(n);
    bits.in <== in + (1 << (n - 1));
    out <== bits.out[n - 1] * in;
}

// min(127, floor((in * m + 2^(e-1)) / 2^e)) for 0 <= in * m + 2^(e-1) < 2^n (n = 34 for the first
// hidden layer, 37 for the second): the remainder is proven in [0, 2^e) and the quotient in
// [0, 2^(n-e)), so both sides are below 2^n, far below the field, and the division is the unique
// integer one.
template Requant(m, e, n) {
    signal input in;
    signal output out;
    assert(e >= 1 && e <= 26);
    signal q;
    signal r;
    var t = in * m + (1 << (e - 1));
    q <-- t \ (1 << e);
    r <-- t % (1 << e);
    t === q * (1 << e) + r;
    component rBits = Num2Bits(e);
    rBits.in <== r;
    component qBits = Num2Bits(n - e);
    qBits.in <== q;
    component small = LessThan(n - e);
    small.in[0] <== q;
    small.in[1] <== 128;
    out <== small.out * (q - 127) + 127;
}

// label = argmax(scores), ties to the lowest index: scores[label] >= scores[k] for k > label and
// scores[label] > scores[k] for k < label. |scores| < 2^22, so differences fit 24 bits.
template ArgmaxLowest(N) {
    signal input scores[N];
    signal input label;
    component is[N];
    signal picked[N];
    var one = 0;
    var chosen = 0;
    for (var k = 0; k < N; k++) {
        is[k] = IsEqual();
        is[k].in[0] <== label;
        is[k].in[1] <== k;
        one += is[k].out;
        picked[k] <== is[k].out * scores[k];
        chosen += picked[k];
    }
    one === 1;
    component nonNeg[N];
    for (var k = 0; k < N; k++) {
        var below = 0;
        for (var j = k + 1; j < N; j++) below += is[j].out;
        nonNeg[k] = Num2Bits(24);
        nonNeg[k].in <== chosen - scores[k] - below;
    }
}

template DigitsMLP(H, W1, B1, M1, E1, W2, B2) {
    signal input pixelsPacked[2];
    signal input scoresPacked;
    signal input label;
    signal input pixels[64];

    // pixels in [0, 16]: both pixel and 16 - pixel fit 5 bits
    component lo[64];
    component hi[64];
    var packed[2] = [0, 0];
    for (var i = 0; i < 64; i++) {
        lo[i] = Num2Bits(5);
        lo[i].in <== pixels[i];
        hi[i] = Num2Bits(5);
        hi[i].in <== 16 - pixels[i];
        packed[i \ 32] += pixels[i] * (1 << (5 * (i % 32)));
    }
    pixelsPacked[0] === packed[0];
    pixelsPacked[1] === packed[1];

    // hidden: |B1| <= 2^20 and |W1| <= 127 with pixels <= 16 keep |acc| < 2^21
    component relu[H];
    component requant[H];
    signal h[H];
    for (var j = 0; j < H; j++) {
        var acc = B1[j];
        for (var i = 0; i < 64; i++) acc += W1[j][i] * pixels[i];
        relu[j] = Relu(22);
        relu[j].in <== acc;
        requant[j] = Requant(M1, E1, 34);
        requant[j].in <== relu[j].out;
        h[j] <== requant[j].out;
    }

    // scores: |B2| <= 2^20, H <= 128, h in [0, 127] keep |score| < 2^22
    assert(H <= 128);
    signal scores[10];
    var packedScores = 0;
    for (var k = 0; k < 10; k++) {
        var acc = B2[k];
        for (var j = 0; j < H; j++) acc += W2[k][j] * h[j];
        scores[k] <== acc;
        packedScores += (scores[k] + (1 << 22)) * (1 << (23 * k));
    }
    scoresPacked === packedScores;

    component argmax = ArgmaxLowest(10);
    argmax.scores <== scores;
    argmax.label <== label;
}


// The two-hidden-layer variant, 64 -> H -> H2 -> 10 (models/digits-h2.json): the first layer as in
// DigitsMLP, a second ReLU + requantization layer on h with the same arithmetic, and the output
// layer (WO, BO) on h2. Same public signals as DigitsMLP.
template DigitsMLP2(H, W1, B1, M1, E1, H2, WL2, BL2, ML2, EL2, WO, BO) {
    signal input pixelsPacked[2];
    signal input scoresPacked;
    signal input label;
    signal input pixels[64];

    component lo[64];
    component hi[64];
    var packed[2] = [0, 0];
    for (var i = 0; i < 64; i++) {
        lo[i] = Num2Bits(5);
        lo[i].in <== pixels[i];
        hi[i] = Num2Bits(5);
        hi[i].in <== 16 - pixels[i];
        packed[i \ 32] += pixels[i] * (1 << (5 * (i % 32)));
    }
    pixelsPacked[0] === packed[0];
    pixelsPacked[1] === packed[1];

    // first hidden layer: |acc| < 2^21 as in DigitsMLP
    component relu[H];
    component requant[H];
    signal h[H];
    for (var j = 0; j < H; j++) {
        var acc = B1[j];
        for (var i = 0; i < 64; i++) acc += W1[j][i] * pixels[i];
        relu[j] = Relu(22);
        relu[j].in <== acc;
        requant[j] = Requant(M1, E1, 34);
        requant[j].in <== relu[j].out;
        h[j] <== requant[j].out;
    }

    // second hidden layer: H <= 512, |BL2| <= 2^20, h in [0, 127] keep |acc2| < 2^24, so
    // relu(acc2) * ML2 + 2^(EL2-1) < 2^37 with ML2 < 2^12
    assert(H <= 512);
    component relu2[H2];
    component requant2[H2];
    signal h2[H2];
    for (var j = 0; j < H2; j++) {
        var acc = BL2[j];
        for (var i = 0; i < H; i++) acc += WL2[j][i] * h[i];
        relu2[j] = Relu(25);
        relu2[j].in <== acc;
        requant2[j] = Requant(ML2, EL2, 37);
        requant2[j].in <== relu2[j].out;
        h2[j] <== requant2[j].out;
    }

    // scores: H2 <= 192 keeps |score| <= 192 * 127 * 127 + 2^20 < 2^22, the packing's bound
    assert(H2 <= 192);
    signal scores[10];
    var packedScores = 0;
    for (var k = 0; k < 10; k++) {
        var acc = BO[k];
        for (var j = 0; j < H2; j++) acc += WO[k][j] * h2[j];
        scores[k] <== acc;
        packedScores += (scores[k] + (1 << 22)) * (1 << (23 * k));
    }
    scoresPacked === packedScores;

    component argmax = ArgmaxLowest(10);
    argmax.scores <== scores;
    argmax.label <== label;
}
