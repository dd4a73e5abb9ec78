namespace DePin.Settlement.Merkle;

/// <summary>
/// Sorted-pair Merkle tree with the exact array layout of @openzeppelin/merkle-tree (core.makeMerkleTree):
/// leaves sorted ascending are stored right-to-left at the end of a (2n-1)-node array, node i has children
/// 2i+1 and 2i+2, parents hash their children with the commutative (sorted pair) keccak256. Hence roots and
/// proofs are byte-identical to the JS library (and verify with OpenZeppelin's MerkleProof.sol).
/// </summary>
public sealed class MerkleTree
{
    private readonly Hash256[] _nodes;

    private MerkleTree(Hash256[] nodes, int leafCount)
    {
        _nodes = nodes;
        LeafCount = leafCount;
    }

    /// <summary>Number of leaves.</summary>
    public int LeafCount { get; }

    /// <summary>The root.</summary>
    public Hash256 Root => _nodes[0];

    /// <summary>All nodes in OpenZeppelin's layout (index 0 = root).</summary>
    public ReadOnlySpan<Hash256> Nodes => _nodes;

    /// <summary>
    /// Builds the tree from leaf hashes. <paramref name="leaves"/> is sorted in place (OpenZeppelin sorts leaves by default).
    /// Returns the tree; the leaf with sorted position k lives at node index <c>NodeCount - 1 - k</c>.
    /// </summary>
    public static MerkleTree BuildSorted(Span<Hash256> leaves)
    {
        if (leaves.Length == 0) throw new ArgumentException("A Merkle tree needs at least one leaf.", nameof(leaves));
        leaves.Sort();
        return BuildInOrder(leaves);
    }

    /// <summary>Builds the tree from leaf hashes in the given order (no sorting).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static MerkleTree BuildInOrder(ReadOnlySpan<Hash256> leaves)
    {
        if (leaves.Length == 0) throw new ArgumentException("A Merkle tree needs at least one leaf.", nameof(leaves));
        int n = leaves.Length;
        var nodes = new Hash256[2 * n - 1];
        for (int i = 0; i < n; i++) nodes[nodes.Length - 1 - i] = leaves[i];
        for (int i = nodes.Length - 1 - n; i >= 0; i--)
        {
            nodes[i] = Hash256.HashPair(nodes[2 * i + 1], nodes[2 * i + 2]);
        }
        return new MerkleTree(nodes, n);
    }

    /// <summary>Node index of the leaf at sorted position <paramref name="sortedLeafIndex"/>.</summary>
    public int NodeIndexOfLeaf(int sortedLeafIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sortedLeafIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sortedLeafIndex, LeafCount);
        return _nodes.Length - 1 - sortedLeafIndex;
    }

    /// <summary>Proof (sibling hashes from the leaf up) for the leaf stored at <paramref name="nodeIndex"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public Hash256[] GetProofForNode(int nodeIndex)
    {
        if (nodeIndex < _nodes.Length - LeafCount || nodeIndex >= _nodes.Length)
            throw new ArgumentOutOfRangeException(nameof(nodeIndex), "Index is not a leaf.");
        int depth = 0;
        for (int i = nodeIndex; i > 0; i = (i - 1) / 2) depth++;
        var proof = new Hash256[depth];
        int k = 0;
        for (int i = nodeIndex; i > 0; i = (i - 1) / 2)
        {
            int sibling = (i & 1) == 1 ? i + 1 : i - 1;
            proof[k++] = _nodes[sibling];
        }
        return proof;
    }

    /// <summary>Folds a proof over a leaf with the sorted-pair hash (OpenZeppelin MerkleProof.processProof).</summary>
    public static Hash256 ProcessProof(Hash256 leaf, IEnumerable<Hash256> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var h = leaf;
        foreach (var p in proof) h = Hash256.HashPair(h, p);
        return h;
    }
}
