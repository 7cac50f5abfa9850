// Proves that one challenged 112-coordinate chunk of a federated round was aggregated exactly:
// next = prev + floor(sum_i a_i * delta_i / 65536), with prev, next and every delta_i opened
// against their Poseidon vector roots at the same chunk index (docs/protocol.md §2-§3).
// DSAIN protocol version 2: seven coordinates packed per field element, sixteen elements per leaf.
pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

// Field elements per leaf, coordinates per element, coordinates per leaf: LEAF_ELEMENTS,
// PACK_COORDINATES and CHUNK_SIZE in aggregator/protocol/constants.ts.
function LEAF_ELEMENTS() { return 16; }
function PACK() { return 7; }
function CHUNK() { return LEAF_ELEMENTS() * PACK(); }

// Constrains x to the signed 32-bit range [-2^31, 2^31) as an integer embedded q mod p.
// Shifting by 2^31 maps that range onto [0, 2^32), which Num2Bits(32) proves; any other field
// element (e.g. q + p, or a huge "negative" value) has no 32-bit decomposition and fails. This is
// what rules out field aliasing in the aggregation equation below.
template Int32Range() {
    signal input in;
    component bits = Num2Bits(32);
    bits.in <== in + 2147483648;
}

// Leaf hash of one chunk (docs/protocol.md §2): its 112 coordinates packed seven per field element,
// element m = sum_k (values[7m + k] + 2^31) * 2^(32k), then circomlib Poseidon(16) over the 16
// elements, exactly as leafElements() and chunkLeaves() in aggregator/protocol/vector-root.ts.
// Packing is linear (no constraints). It is injective only for int32 values: the CALLER must
// range-check every value with Int32Range (each limb is then in [0, 2^32), the element below
// 2^224 < p, and its limbs are its base-2^32 digits), as ChunkAggregation and RoundChunk do.
template ChunkLeaf() {
    signal input values[CHUNK()];
    signal output leaf;
    component h = Poseidon(LEAF_ELEMENTS());
    for (var m = 0; m < LEAF_ELEMENTS(); m++) {
        var element = 0;
        for (var k = 0; k < PACK(); k++) element += (values[m * PACK() + k] + 2147483648) * (2 ** (32 * k));
        h.inputs[m] <== element;
    }
    leaf <== h.out;
}

// Root of a binary Poseidon(2) tree given a leaf, its sibling path (bottom-up) and the bits of
// its index (least significant first). Bit d = 1 means the running node is a right child, so the
// parent is Poseidon(sibling, node); merklePath() in vector-root.ts emits siblings in this order.
// The bits must already be constrained to {0, 1} by the caller (RoundChunk shares one Num2Bits).
template MerkleRoot(DEPTH) {
    signal input leaf;
    signal input path[DEPTH];
    signal input bits[DEPTH];
    signal output root;

    signal node[DEPTH + 1];
    signal swap[DEPTH];
    component h[DEPTH];
    node[0] <== leaf;
    for (var d = 0; d < DEPTH; d++) {
        // One multiplication selects the order: swap = bit * (sibling - node), so
        // left = node + swap and right = sibling - swap give (node, sibling) for bit 0 and
        // (sibling, node) for bit 1.
        swap[d] <== bits[d] * (path[d] - node[d]);
        h[d] = Poseidon(2);
        h[d].inputs[0] <== node[d] + swap[d];
        h[d].inputs[1] <== path[d] - swap[d];
        node[d + 1] <== h[d].out;
    }
    root <== node[DEPTH];
}

// One challenged chunk of a round with K aggregated updates in trees of depth DEPTH.
// DEPTH = 0 (a model of at most 112 parameters) is allowed: the root is then the leaf itself and
// Num2Bits(0) forces chunkIndex = 0.
template RoundChunk(K, DEPTH) {
    assert(K >= 1);
    assert(DEPTH >= 0);
    // Num2Bits(n) is sound only while 2^n < p; tree depths anywhere near that are absurd anyway.
    assert(DEPTH <= 32);

    // Public inputs, in this order (the contract builds publicSignals in this order; circom
    // numbers public inputs by declaration order in the template).
    signal input prevRoot;
    signal input newRoot;
    signal input chunkIndex;
    signal input updateRoots[K];
    signal input weights[K];

    // Private witness.
    signal input prev[CHUNK()];
    signal input next[CHUNK()];
    signal input deltas[K][CHUNK()];
    signal input remainders[CHUNK()];
    signal input prevPath[DEPTH];
    signal input nextPath[DEPTH];
    signal input deltaPaths[K][DEPTH];

    // --- Index bits: chunkIndex < 2^DEPTH, and the same bits steer every Merkle opening, so all
    // K + 2 vectors are opened at the one challenged chunk.
    component indexBits = Num2Bits(DEPTH);
    indexBits.in <== chunkIndex;

    // --- Weights: each in [0, 2^17) and their sum exactly 65536. With K * 2^17 far below p the
    // field sum equals the integer sum, so the weights are genuine non-negative integers totalling
    // 65536 (each therefore at most 65536).
    component weightBits[K];
    var weightSum = 0;
    for (var i = 0; i < K; i++) {
        weightBits[i] = Num2Bits(17);
        weightBits[i].in <== weights[i];
        weightSum += weights[i];
    }
    weightSum === 65536;

    // --- Range checks: every coordinate is an int32 (so the field equation below is an integer
    // equation) and every remainder lies in [0, 65536).
    component prevRange[CHUNK()];
    component nextRange[CHUNK()];
    component deltaRange[K][CHUNK()];
    component remBits[CHUNK()];
    for (var k = 0; k < CHUNK(); k++) {
        prevRange[k] = Int32Range();
        prevRange[k].in <== prev[k];
        nextRange[k] = Int32Range();
        nextRange[k].in <== next[k];
        remBits[k] = Num2Bits(16);
        remBits[k].in <== remainders[k];
        for (var i = 0; i < K; i++) {
            deltaRange[i][k] = Int32Range();
            deltaRange[i][k].in <== deltas[i][k];
        }
    }

    // --- Aggregation, per coordinate: next * 65536 + r = prev * 65536 + sum_i a_i * delta_i.
    // Both sides are integers of absolute value below 2^49 (|prev|, |next| < 2^31, weights sum to
    // 2^16, |delta| <= 2^31, 0 <= r < 2^16), far below p/2, so equality mod p is equality over the
    // integers; with 0 <= r < 65536 it says next = prev + floor(sum_i a_i * delta_i / 65536).
    signal weighted[CHUNK()][K];
    for (var k = 0; k < CHUNK(); k++) {
        var acc = 0;
        for (var i = 0; i < K; i++) {
            weighted[k][i] <== weights[i] * deltas[i][k];
            acc += weighted[k][i];
        }
        next[k] * 65536 + remainders[k] === prev[k] * 65536 + acc;
    }

    // --- Commitments: each chunk hashes to its leaf and the leaf opens to its root at chunkIndex.
    component prevLeaf = ChunkLeaf();
    component nextLeaf = ChunkLeaf();
    component deltaLeaf[K];
    for (var k = 0; k < CHUNK(); k++) {
        prevLeaf.values[k] <== prev[k];
        nextLeaf.values[k] <== next[k];
    }

    component prevMerkle = MerkleRoot(DEPTH);
    component nextMerkle = MerkleRoot(DEPTH);
    component deltaMerkle[K];
    prevMerkle.leaf <== prevLeaf.leaf;
    nextMerkle.leaf <== nextLeaf.leaf;
    for (var d = 0; d < DEPTH; d++) {
        prevMerkle.path[d] <== prevPath[d];
        prevMerkle.bits[d] <== indexBits.out[d];
        nextMerkle.path[d] <== nextPath[d];
        nextMerkle.bits[d] <== indexBits.out[d];
    }
    prevMerkle.root === prevRoot;
    nextMerkle.root === newRoot;

    for (var i = 0; i < K; i++) {
        deltaLeaf[i] = ChunkLeaf();
        for (var k = 0; k < CHUNK(); k++) deltaLeaf[i].values[k] <== deltas[i][k];
        deltaMerkle[i] = MerkleRoot(DEPTH);
        deltaMerkle[i].leaf <== deltaLeaf[i].leaf;
        for (var d = 0; d < DEPTH; d++) {
            deltaMerkle[i].path[d] <== deltaPaths[i][d];
            deltaMerkle[i].bits[d] <== indexBits.out[d];
        }
        deltaMerkle[i].root === updateRoots[i];
    }
}
