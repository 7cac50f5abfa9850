// The batched round proof: S challenged chunks aggregated exactly (round_sampled.circom) plus the
// K participants' EdDSA-Poseidon (BabyJubJub) attestations of their updates, verified in-circuit
// against the federation's key registry, so the ledger's cost of a round does not grow with K.
// Messages, entries, the commitment and the registry are defined in docs/proof-of-training.md §4.
pragma circom 2.1.0;

include "round_sampled.circom";
include "circomlib/circuits/babyjub.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/eddsaposeidon.circom";

// One participant: key enrolled in the registry at keyIndex, signature over
// Poseidon(scope, prevRoot, updateRoot, meta), and the entry hash the commitment is built from.
template Attestation(R) {
    signal input scope;
    signal input prevRoot;
    signal input keyRegistryRoot;
    signal input updateRoot;
    signal input weight;
    signal input meta;
    signal input pubKey[2];
    signal input sigR8[2];
    signal input sigS;
    signal input keyIndex;
    signal input keyPath[R];
    signal output entry;

    // Registry membership: leaf Poseidon(Ax, Ay) at keyIndex < 2^R.
    component indexBits = Num2Bits(R);
    indexBits.in <== keyIndex;
    component keyLeaf = Poseidon(2);
    keyLeaf.inputs <== pubKey;
    component registry = MerkleRoot(R);
    registry.leaf <== keyLeaf.out;
    registry.path <== keyPath;
    registry.bits <== indexBits.out;
    registry.root === keyRegistryRoot;

    // circomlib's verifier does not check that A and R8 lie on the curve; a few constraints do.
    component keyOnCurve = BabyCheck();
    keyOnCurve.x <== pubKey[0];
    keyOnCurve.y <== pubKey[1];
    component r8OnCurve = BabyCheck();
    r8OnCurve.x <== sigR8[0];
    r8OnCurve.y <== sigR8[1];

    component message = Poseidon(4);
    message.inputs[0] <== scope;
    message.inputs[1] <== prevRoot;
    message.inputs[2] <== updateRoot;
    message.inputs[3] <== meta;

    component sig = EdDSAPoseidonVerifier();
    sig.enabled <== 1;
    sig.Ax <== pubKey[0];
    sig.Ay <== pubKey[1];
    sig.S <== sigS;
    sig.R8x <== sigR8[0];
    sig.R8y <== sigR8[1];
    sig.M <== message.out;

    component entryHash = Poseidon(5);
    entryHash.inputs[0] <== pubKey[0];
    entryHash.inputs[1] <== pubKey[1];
    entryHash.inputs[2] <== updateRoot;
    entryHash.inputs[3] <== weight;
    entryHash.inputs[4] <== meta;
    entry <== entryHash.out;
}

// K attested updates (registry depth R) and S challenged chunks of level C in trees of depth DEPTH.
template RoundAttested(K, DEPTH, C, S, R) {
    assert(K >= 1);
    // circomlib's Poseidon takes at most 16 inputs: the commitment hashes the K entries at once.
    assert(K <= 16);
    assert(R >= 0);
    assert(R <= 32);
    // Strictly ascending key indices need K distinct slots.
    assert(K <= (1 << R));
    // participantSlots packs K indices of R bits each into one field element, injectively.
    assert(K * R <= 252);
    var N = CHUNK() << C;

    // Public inputs, in this order (the ledger builds them; docs/proof-of-training.md §5).
    signal input scope;
    signal input prevRoot;
    signal input newRoot;
    signal input keyRegistryRoot;
    signal input participantSlots;
    signal input updatesCommitment;
    signal input chunkIndices[S];

    // Private: the K entries and their attestations, in strictly ascending key-index order.
    signal input updateRoots[K];
    signal input weights[K];
    signal input metas[K];
    signal input pubKeys[K][2];
    signal input sigR8[K][2];
    signal input sigS[K];
    signal input keyIndices[K];
    signal input keyPaths[K][R];

    // Private: the challenged chunks.
    signal input prev[S][N];
    signal input next[S][N];
    signal input deltas[S][K][N];
    signal input remainders[S][N];
    signal input prevPath[S][DEPTH - C];
    signal input nextPath[S][DEPTH - C];
    signal input deltaPaths[S][K][DEPTH - C];

    component attest[K];
    component commitment = Poseidon(K);
    component ascending[K];
    for (var i = 0; i < K; i++) {
        attest[i] = Attestation(R);
        attest[i].scope <== scope;
        attest[i].prevRoot <== prevRoot;
        attest[i].keyRegistryRoot <== keyRegistryRoot;
        attest[i].updateRoot <== updateRoots[i];
        attest[i].weight <== weights[i];
        attest[i].meta <== metas[i];
        attest[i].pubKey <== pubKeys[i];
        attest[i].sigR8 <== sigR8[i];
        attest[i].sigS <== sigS[i];
        attest[i].keyIndex <== keyIndices[i];
        attest[i].keyPath <== keyPaths[i];
        commitment.inputs[i] <== attest[i].entry;
        // Distinct participants: key indices strictly ascending (each already < 2^R).
        if (i > 0) {
            ascending[i] = LessThan(R);
            ascending[i].in[0] <== keyIndices[i - 1];
            ascending[i].in[1] <== keyIndices[i];
            ascending[i].out === 1;
        }
    }
    commitment.out === updatesCommitment;

    // The registry slots used are exactly the ones the ledger selected and recorded:
    // participantSlots = sum_i keyIndex_i * 2^(R * i), each keyIndex_i < 2^R (Attestation's Num2Bits).
    var packed = 0;
    var shift = 1;
    for (var i = 0; i < K; i++) {
        packed += keyIndices[i] * shift;
        shift = shift * (1 << R);
    }
    packed === participantSlots;

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
