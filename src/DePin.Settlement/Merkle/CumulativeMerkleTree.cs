using System.Buffers.Binary;
using System.Numerics;

namespace DePin.Settlement.Merkle;

/// <summary>One leaf of a cumulative payout tree: the total ever earned by <paramref name="Account"/>.</summary>
public sealed record CumulativeLeaf(string Account, BigInteger CumulativeAmount);

/// <summary>
/// Merkle tree over (address, cumulative uint256) leaves, byte-identical to
/// <c>StandardMerkleTree.of(values, ["address", "uint256"])</c> of @openzeppelin/merkle-tree:
/// leaf = keccak256(keccak256(abi.encode(address, uint256))), leaves sorted, sorted-pair node hashing.
/// </summary>
public sealed class CumulativeMerkleTree
{
    /// <summary>2^256, the first amount that does not fit a uint256.</summary>
    public static readonly BigInteger Uint256Limit = BigInteger.One << 256;

    private const int ParallelThreshold = 8192;

    private readonly MerkleTree _tree;
    private readonly CumulativeLeaf[] _leaves;
    private readonly int[] _nodeIndex;
    private readonly Dictionary<string, int> _byAccount;

    private CumulativeMerkleTree(MerkleTree tree, CumulativeLeaf[] leaves, int[] nodeIndex, Dictionary<string, int> byAccount)
    {
        _tree = tree;
        _leaves = leaves;
        _nodeIndex = nodeIndex;
        _byAccount = byAccount;
    }

    /// <summary>Root as lower-case 0x hex.</summary>
    public string Root => _tree.Root.ToHex();

    /// <summary>Root as a hash value.</summary>
    public Hash256 RootHash => _tree.Root;

    /// <summary>Root as 32 bytes.</summary>
    public byte[] RootBytes => _tree.Root.ToBytes();

    /// <summary>Number of leaves.</summary>
    public int Count => _leaves.Length;

    /// <summary>Leaves in input order, addresses normalized to lower case.</summary>
    public IReadOnlyList<CumulativeLeaf> Leaves => _leaves;

    /// <summary>Sum of all cumulative amounts (the <c>total</c> to post on chain).</summary>
    public BigInteger Total { get; private init; }

    /// <summary>The underlying sorted-pair tree.</summary>
    public MerkleTree Tree => _tree;

    /// <summary>Builds a tree from (account, cumulative amount) pairs.</summary>
    /// <exception cref="ArgumentException">Invalid/zero/duplicate address, negative amount or amount ≥ 2^256, or no leaves.</exception>
    public static CumulativeMerkleTree Build(IEnumerable<KeyValuePair<string, BigInteger>> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        return Build(leaves.Select(kv => new CumulativeLeaf(kv.Key, kv.Value)));
    }

    /// <summary>Builds a tree from leaves.</summary>
    /// <exception cref="ArgumentException">Invalid/zero/duplicate address, negative amount or amount ≥ 2^256, or no leaves.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static CumulativeMerkleTree Build(IEnumerable<CumulativeLeaf> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        var input = leaves as IReadOnlyList<CumulativeLeaf> ?? leaves.ToArray();
        int n = input.Count;
        if (n == 0) throw new ArgumentException("A payout tree needs at least one leaf.", nameof(leaves));

        var normalized = new CumulativeLeaf[n];
        var byAccount = new Dictionary<string, int>(n, StringComparer.Ordinal);
        BigInteger total = BigInteger.Zero;
        for (int i = 0; i < n; i++)
        {
            var leaf = input[i] ?? throw new ArgumentException($"Leaf {i} is null.", nameof(leaves));
            string account = EthAddress.Normalize(leaf.Account, nameof(leaves));
            if (account == EthAddress.Zero) throw new ArgumentException($"Leaf {i}: the zero address cannot receive rewards.", nameof(leaves));
            ValidateAmount(leaf.CumulativeAmount, $"leaf {i} ({account})");
            if (!byAccount.TryAdd(account, i)) throw new ArgumentException($"Duplicate account {account} (leaves {byAccount[account]} and {i}).", nameof(leaves));
            normalized[i] = new CumulativeLeaf(account, leaf.CumulativeAmount);
            total += leaf.CumulativeAmount;
        }

        // hash leaves (index carried in a parallel array so the sort can move them together)
        var keyed = new (Hash256 Hash, int Index)[n];
        if (n >= ParallelThreshold)
        {
            Parallel.For(0, Environment.ProcessorCount, part =>
            {
                int from = (int)((long)n * part / Environment.ProcessorCount);
                int to = (int)((long)n * (part + 1) / Environment.ProcessorCount);
                for (int i = from; i < to; i++) keyed[i] = (HashLeafUnchecked(normalized[i].Account, normalized[i].CumulativeAmount), i);
            });
        }
        else
        {
            for (int i = 0; i < n; i++) keyed[i] = (HashLeafUnchecked(normalized[i].Account, normalized[i].CumulativeAmount), i);
        }
        Array.Sort(keyed, static (a, b) => a.Hash.CompareTo(b.Hash));

        var sorted = new Hash256[n];
        var nodeIndex = new int[n];
        int nodeCount = 2 * n - 1;
        for (int k = 0; k < n; k++)
        {
            sorted[k] = keyed[k].Hash;
            nodeIndex[keyed[k].Index] = nodeCount - 1 - k;
        }
        var tree = MerkleTree.BuildInOrder(sorted);
        return new CumulativeMerkleTree(tree, normalized, nodeIndex, byAccount) { Total = total };
    }

    /// <summary>Whether <paramref name="account"/> has a leaf.</summary>
    public bool Contains(string account) => _byAccount.ContainsKey(EthAddress.Normalize(account, nameof(account)));

    /// <summary>Cumulative amount of <paramref name="account"/>.</summary>
    public BigInteger GetAmount(string account) => _leaves[IndexOf(account)].CumulativeAmount;

    /// <summary>Proof for <paramref name="account"/> as hash values (leaf to root).</summary>
    public Hash256[] GetProofHashes(string account) => _tree.GetProofForNode(_nodeIndex[IndexOf(account)]);

    /// <summary>Proof for <paramref name="account"/> as 32-byte arrays (the <c>bytes32[]</c> argument of claim).</summary>
    public List<byte[]> GetProof(string account) => GetProofHashes(account).Select(h => h.ToBytes()).ToList();

    /// <summary>Proof for <paramref name="account"/> as lower-case 0x hex strings (as @openzeppelin/merkle-tree prints them).</summary>
    public string[] GetProofHex(string account) => GetProofHashes(account).Select(h => h.ToHex()).ToArray();

    /// <summary>Proof of the leaf with input position <paramref name="leafIndex"/>.</summary>
    public Hash256[] GetProofHashes(int leafIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leafIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leafIndex, _leaves.Length);
        return _tree.GetProofForNode(_nodeIndex[leafIndex]);
    }

    /// <summary>Verifies a proof against this tree's root.</summary>
    public bool Verify(string account, BigInteger cumulativeAmount, IEnumerable<Hash256> proof) =>
        Verify(_tree.Root, account, cumulativeAmount, proof);

    /// <summary>Verifies a proof against <paramref name="root"/> exactly like the contract does.</summary>
    public static bool Verify(Hash256 root, string account, BigInteger cumulativeAmount, IEnumerable<Hash256> proof) =>
        MerkleTree.ProcessProof(HashLeaf(account, cumulativeAmount), proof) == root;

    /// <summary>Verifies a proof given as hex strings against a hex root.</summary>
    public static bool Verify(string root, string account, BigInteger cumulativeAmount, IEnumerable<string> proof) =>
        Verify(Hash256.FromHex(root), account, cumulativeAmount, proof.Select(Hash256.FromHex));

    /// <summary>keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount)))).</summary>
    public static Hash256 HashLeaf(string account, BigInteger cumulativeAmount)
    {
        string a = EthAddress.Normalize(account, nameof(account));
        ValidateAmount(cumulativeAmount, nameof(cumulativeAmount));
        return HashLeafUnchecked(a, cumulativeAmount);
    }

    private static void ValidateAmount(BigInteger amount, string what)
    {
        if (amount.Sign < 0) throw new ArgumentException($"Amount of {what} is negative ({amount}).", nameof(amount));
        if (amount >= Uint256Limit) throw new ArgumentException($"Amount of {what} does not fit in uint256 ({amount}).", nameof(amount));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static Hash256 HashLeafUnchecked(string lowerAddress, BigInteger amount)
    {
        Span<byte> enc = stackalloc byte[64];
        enc.Clear();
        Convert.FromHexString(lowerAddress.AsSpan(2), enc.Slice(12, 20), out _, out _);
        int len = amount.GetByteCount(isUnsigned: true);
        amount.TryWriteBytes(enc.Slice(64 - len, len), out _, isUnsigned: true, isBigEndian: true);
        var a = new Hash256(
            BinaryPrimitives.ReadUInt64LittleEndian(enc[..8]), BinaryPrimitives.ReadUInt64LittleEndian(enc[8..16]),
            BinaryPrimitives.ReadUInt64LittleEndian(enc[16..24]), BinaryPrimitives.ReadUInt64LittleEndian(enc[24..32]));
        var b = new Hash256(
            BinaryPrimitives.ReadUInt64LittleEndian(enc[32..40]), BinaryPrimitives.ReadUInt64LittleEndian(enc[40..48]),
            BinaryPrimitives.ReadUInt64LittleEndian(enc[48..56]), BinaryPrimitives.ReadUInt64LittleEndian(enc[56..64]));
        return Keccak256.Hash32(Keccak256.Hash64(a, b));
    }

    private int IndexOf(string account)
    {
        string a = EthAddress.Normalize(account, nameof(account));
        return _byAccount.TryGetValue(a, out int i) ? i : throw new KeyNotFoundException($"Account {a} is not in the tree.");
    }
}
