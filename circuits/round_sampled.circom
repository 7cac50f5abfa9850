// Proves that S challenged chunks of a federated round were aggregated exactly (docs/protocol.md §3,
// docs/proof-of-training.md): the EIP-712 path's circuit, RoundChunks, and the per-chunk building
// block that the batched (EdDSA-attested) circuit in round_attested.circom reuses.
//
// A challenged chunk at level C is the aligned subtree of 2^C leaves (112 * 2^C coordinates) whose
// root sits at level C of the vector tree of docs/protocol.md §2; C = 0 is one 112-coordinate leaf,
// exactly the chunk of RoundChunk. Its index ranges over [0, 2^(DEPTH - C)).
pragma circom 2.1.0;

include "round_chunk.circom";

// Root of a complete binary Poseidon(2) tree over 2^C leaves given in order (no index bits: the
// subtree's internal shape is fixed). Node n + j hashes nodes 2j and 2j + 1, so the root is last.
template SubtreeRoot(C) {
    var n = 1 << C;
    signal input leaves[n];
    signal output root;

    signal nodes[2 * n - 1];
    component h[n - 1];
    for (var i = 0; i < n; i++) nodes[i] <== leaves[i];
    for (var j = 0; j < n - 1; j++) {
        h[j] = Poseidon(2);
        h[j].inputs[0] <== nodes[2 * j];
        h[j].inputs[1] <== nodes[2 * j + 1];
        nodes[n + j] <== h[j].out;
    }
    root <== nodes[2 * n - 2];
}

// Root of a vector tree of depth DEPTH, given the 112 * 2^C coordinates of one level-C chunk (each
// range-checked to int32 by the caller, as ChunkLeaf requires), the
// sibling path from level C up (DEPTH - C nodes) and the chunk index bits (constrained by caller).
template ChunkOpening(DEPTH, C) {
    var L = 1 << C;
    var N = CHUNK() * L;
    signal input values[N];
    signal input path[DEPTH - C];
    signal input bits[DEPTH - C];
    signal output root;

    component leaf[L];
    component subtree = SubtreeRoot(C);
    for (var l = 0; l < L; l++) {
        leaf[l] = ChunkLeaf();
        for (var k = 0; k < CHUNK(); k++) leaf[l].values[k] <== values[l * CHUNK() + k];
        subtree.leaves[l] <== leaf[l].leaf;
    }
    component merkle = MerkleRoot(DEPTH - C);
    merkle.leaf <== subtree.root;
    merkle.path <== path;
    merkle.bits <== bits;
    root <== merkle.root;
}

// The round's integer weights: each in [0, 2^17) and together exactly 65536 (K * 2^17 < p, so the
// field sum is the integer sum). Done once per proof; ChunkAggregation relies on it.
template WeightsCheck(K) {
    signal input weights[K];
    component bits[K];
    var sum = 0;
    for (var i = 0; i < K; i++) {
        bits[i] = Num2Bits(17);
        bits[i].in <== weights[i];
        sum += weights[i];
    }
    sum === 65536;
}

// One challenged chunk: the chunk of w_t, w_{t+1} and every delta_i opens to its root at `index`,
// every value is an int32, every remainder in [0, 65536), and per coordinate
// next * 65536 + r = prev * 65536 + sum_i a_i * delta_i (an integer equation: see RoundChunk).
// The weights must already be checked by WeightsCheck.
template ChunkAggregation(K, DEPTH, C) {
    assert(K >= 1);
    assert(C >= 0);
    assert(DEPTH >= C);
    assert(DEPTH <= 32);
    var N = CHUNK() << C;

    signal input prevRoot;
    signal input newRoot;
    signal input updateRoots[K];
    signal input weights[K];
    signal input index;

    signal input prev[N];
    signal input next[N];
    signal input deltas[K][N];
    signal input remainders[N];
    signal input prevPath[DEPTH - C];
    signal input nextPath[DEPTH - C];
    signal input deltaPaths[K][DEPTH - C];

    // index < 2^(DEPTH - C); the same bits steer all K + 2 openings.
    component indexBits = Num2Bits(DEPTH - C);
    indexBits.in <== index;

    component prevRange[N];
    component nextRange[N];
    component deltaRange[K][N];
    component remBits[N];
    signal weighted[N][K];
    for (var k = 0; k < N; k++) {
        prevRange[k] = Int32Range();
        prevRange[k].in <== prev[k];
        nextRange[k] = Int32Range();
        nextRange[k].in <== next[k];
        remBits[k] = Num2Bits(16);
        remBits[k].in <== remainders[k];
        var acc = 0;
        for (var i = 0; i < K; i++) {
            deltaRange[i][k] = Int32Range();
            deltaRange[i][k].in <== deltas[i][k];
            weighted[k][i] <== weights[i] * deltas[i][k];
            acc += weighted[k][i];
        }
        next[k] * 65536 + remainders[k] === prev[k] * 65536 + acc;
    }

    component prevOpen = ChunkOpening(DEPTH, C);
    prevOpen.values <== prev;
    prevOpen.path <== prevPath;
    prevOpen.bits <== indexBits.out;
    prevOpen.root === prevRoot;

    component nextOpen = ChunkOpening(DEPTH, C);
    nextOpen.values <== next;
    nextOpen.path <== nextPath;
    nextOpen.bits <== indexBits.out;
    nextOpen.root === newRoot;

    component deltaOpen[K];
    for (var i = 0; i < K; i++) {
        deltaOpen[i] = ChunkOpening(DEPTH, C);
        deltaOpen[i].values <== deltas[i];
        deltaOpen[i].path <== deltaPaths[i];
        deltaOpen[i].bits <== indexBits.out;
        deltaOpen[i].root === updateRoots[i];
    }
}

// S challenged chunks of one round against roots and weights already known to the caller.
template SampledAggregation(K, DEPTH, C, S) {
    assert(S >= 1);
    var N = CHUNK() << C;

    signal input prevRoot;
    signal input newRoot;
    signal input chunkIndices[S];
    signal input updateRoots[K];
    signal input weights[K];

    signal input prev[S][N];
    signal input next[S][N];
    signal input deltas[S][K][N];
    signal input remainders[S][N];
    signal input prevPath[S][DEPTH - C];
    signal input nextPath[S][DEPTH - C];
    signal input deltaPaths[S][K][DEPTH - C];

    component weightsCheck = WeightsCheck(K);
    weightsCheck.weights <== weights;

    component chunk[S];
    for (var s = 0; s < S; s++) {
        chunk[s] = ChunkAggregation(K, DEPTH, C);
        chunk[s].prevRoot <== prevRoot;
        chunk[s].newRoot <== newRoot;
        chunk[s].updateRoots <== updateRoots;
        chunk[s].weights <== weights;
        chunk[s].index <== chunkIndices[s];
        chunk[s].prev <== prev[s];
        chunk[s].next <== next[s];
        chunk[s].deltas <== deltas[s];
        chunk[s].remainders <== remainders[s];
        chunk[s].prevPath <== prevPath[s];
        chunk[s].nextPath <== nextPath[s];
        chunk[s].deltaPaths <== deltaPaths[s];
    }
}

// The EIP-712 path's round proof: S challenged chunks of level C, with the K update roots and
// weights the ledger stores as public inputs. The chunk indices are derived by the ledger from the
// round's challenge seed (challengeIndices, docs/proof-of-training.md §3); the circuit only checks
// that each is below 2^(DEPTH - C) and opens every vector there.
template RoundChunks(K, DEPTH, C, S) {
    var N = CHUNK() << C;

    // Public inputs, in this order (circom numbers them by declaration order).
    signal input prevRoot;
    signal input newRoot;
    signal input chunkIndices[S];
    signal input updateRoots[K];
    signal input weights[K];

    // Private witness: per challenged chunk, the values, remainders and sibling paths.
    signal input prev[S][N];
    signal input next[S][N];
    signal input deltas[S][K][N];
    signal input remainders[S][N];
    signal input prevPath[S][DEPTH - C];
    signal input nextPath[S][DEPTH - C];
    signal input deltaPaths[S][K][DEPTH - C];

    component body = SampledAggregation(K, DEPTH, C, S);
    body.prevRoot <== prevRoot;
    body.newRoot <== newRoot;
    body.chunkIndices <== chunkIndices;
    body.updateRoots <== updateRoots;
    body.weights <== weights;
    body.prev <== prev;
    body.next <== next;
    body.deltas <== deltas;
    body.remainders <== remainders;
    body.prevPath <== prevPath;
    body.nextPath <== nextPath;
    body.deltaPaths <== deltaPaths;
}
