using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using DePin.Settlement.Keys;
using DePin.Settlement.Merkle;
using Nethereum.Signer;
using Nethereum.Util;
using Xunit.Abstractions;

namespace DePin.Settlement.Tests;

public class MerkleTreeTests(ITestOutputHelper output)
{
    private static string RandomAddress(Random rng)
    {
        var b = new byte[20];
        rng.NextBytes(b);
        b[0] |= 1; // never the zero address
        return "0x" + Convert.ToHexStringLower(b);
    }

    private static List<CumulativeLeaf> RandomLeaves(int n, int seed)
    {
        var rng = new Random(seed);
        var list = new List<CumulativeLeaf>(n);
        for (int i = 0; i < n; i++)
        {
            var amount = new BigInteger(rng.NextInt64(0, long.MaxValue)) * rng.Next(1, 1_000_000);
            if (i == 1) amount = CumulativeMerkleTree.Uint256Limit - 1; // max uint256
            if (i == 2) amount = 0;
            var addr = RandomAddress(rng);
            list.Add(new CumulativeLeaf(i % 3 == 0 ? EthAddress.ToChecksum(addr) : addr, amount));
        }
        return list;
    }

    [Fact]
    public void Keccak_matches_Nethereum_for_many_lengths()
    {
        var rng = new Random(7);
        var reference = new Sha3Keccack();
        foreach (var len in new[] { 0, 1, 31, 32, 33, 64, 135, 136, 137, 200, 272, 1000 })
        {
            var data = new byte[len];
            rng.NextBytes(data);
            Assert.Equal(Convert.ToHexStringLower(reference.CalculateHash(data)), Convert.ToHexStringLower(Keccak256.Hash(data)));
        }
        var a = new byte[32]; var b = new byte[32];
        rng.NextBytes(a); rng.NextBytes(b);
        Assert.Equal(reference.CalculateHash(a), Keccak256.Hash32(Hash256.FromBytes(a)).ToBytes());
        Assert.Equal(reference.CalculateHash(a.Concat(b).ToArray()), Keccak256.Hash64(Hash256.FromBytes(a), Hash256.FromBytes(b)).ToBytes());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(333)]
    public void Root_and_every_proof_equal_openzeppelin_merkle_tree(int n)
    {
        var leaves = RandomLeaves(n, seed: n);
        var tree = CumulativeMerkleTree.Build(leaves);
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, JsonSerializer.Serialize(leaves.Select(l => new[] { l.Account, l.CumulativeAmount.ToString() })));
            using var doc = JsonDocument.Parse(Node.Run($"contracts/oz-merkle.mjs {file}", TimeSpan.FromSeconds(30)));
            Assert.Equal(doc.RootElement.GetProperty("root").GetString(), tree.Root);
            var proofs = doc.RootElement.GetProperty("proofs");
            foreach (var leaf in leaves)
            {
                var expected = proofs.GetProperty(leaf.Account.ToLowerInvariant()).EnumerateArray().Select(e => e.GetString()!).ToArray();
                Assert.Equal(expected, tree.GetProofHex(leaf.Account));
                Assert.True(tree.Verify(leaf.Account, leaf.CumulativeAmount, tree.GetProofHashes(leaf.Account)));
                Assert.True(CumulativeMerkleTree.Verify(tree.Root, leaf.Account, leaf.CumulativeAmount, expected));
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Wrong_amount_or_proof_does_not_verify()
    {
        var leaves = RandomLeaves(10, 3);
        var tree = CumulativeMerkleTree.Build(leaves);
        var proof = tree.GetProofHashes(leaves[5].Account);
        Assert.False(tree.Verify(leaves[5].Account, leaves[5].CumulativeAmount + 1, proof));
        Assert.False(tree.Verify(leaves[4].Account, leaves[5].CumulativeAmount, proof));
        Assert.Equal(leaves.Aggregate(BigInteger.Zero, (s, l) => s + l.CumulativeAmount), tree.Total);
    }

    [Theory]
    [InlineData("0x123")]
    [InlineData("70997970C51812dc3A010C7d01b50e0d17dc79C8aa")]
    [InlineData("0xZZ997970C51812dc3A010C7d01b50e0d17dc79C8")]
    [InlineData("0x70997970C51812dc3A010C7d01b50e0d17dc79c8")] // bad EIP-55 checksum
    [InlineData("0x0000000000000000000000000000000000000000")] // zero address
    [InlineData("")]
    public void Invalid_address_throws_ArgumentException(string address)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => CumulativeMerkleTree.Build([new CumulativeLeaf(address, 1)]));
        output.WriteLine(e.Message);
    }

    [Fact]
    public void Negative_overflowing_duplicate_and_empty_throw_ArgumentException()
    {
        Assert.Contains("negative", Assert.ThrowsAny<ArgumentException>(() =>
            CumulativeMerkleTree.Build([new CumulativeLeaf(DevChainKeys.Account1Address, -1)])).Message);
        Assert.Contains("uint256", Assert.ThrowsAny<ArgumentException>(() =>
            CumulativeMerkleTree.Build([new CumulativeLeaf(DevChainKeys.Account1Address, CumulativeMerkleTree.Uint256Limit)])).Message);
        Assert.Contains("Duplicate", Assert.ThrowsAny<ArgumentException>(() => CumulativeMerkleTree.Build([
            new CumulativeLeaf(DevChainKeys.Account1Address, 1), new CumulativeLeaf(DevChainKeys.Account1Address.ToLowerInvariant(), 2)])).Message);
        Assert.ThrowsAny<ArgumentException>(() => CumulativeMerkleTree.Build(Array.Empty<CumulativeLeaf>()));
        Assert.ThrowsAny<ArgumentException>(() => CumulativeMerkleTree.HashLeaf(DevChainKeys.Account1Address, -5));
    }

    [Fact]
    public void Dev_keys_match_their_addresses()
    {
        Assert.Equal(DevChainKeys.Account0Address, EthECKey.GetPublicAddress(DevChainKeys.Account0PrivateKey));
        Assert.Equal(DevChainKeys.Account1Address, EthECKey.GetPublicAddress(DevChainKeys.Account1PrivateKey));
        Assert.Equal(DevChainKeys.Account2Address, EthECKey.GetPublicAddress(DevChainKeys.Account2PrivateKey));
        Assert.Equal(DevChainKeys.Account1Address, EthAddress.ToChecksum(DevChainKeys.Account1Address.ToLowerInvariant()));
        Assert.Throws<InvalidOperationException>(() => DevChainKeys.Account0(chainId: 1));
    }

}

/// <summary>A 100,000-leaf tree is built and every proof verifies (its speed is measured by bench/DePin.Settlement.Bench).</summary>
public class LargeTreeTests
{
    [Fact]
    public void Builds_a_100k_leaf_tree_whose_proofs_verify()
    {
        var rng = new Random(42);
        var leaves = new List<CumulativeLeaf>(100_000);
        for (int i = 0; i < 100_000; i++)
        {
            var b = new byte[20];
            rng.NextBytes(b);
            b[0] |= 1;
            leaves.Add(new CumulativeLeaf("0x" + Convert.ToHexStringLower(b), new BigInteger(rng.NextInt64(1, long.MaxValue))));
        }
        var tree = CumulativeMerkleTree.Build(leaves);
        Assert.Equal(100_000, tree.Count);
        foreach (var i in new[] { 0, 1, 4_242, 65_535, 99_999 })
            Assert.True(tree.Verify(leaves[i].Account, leaves[i].CumulativeAmount, tree.GetProofHashes(leaves[i].Account)));
        Assert.False(tree.Verify(leaves[7].Account, leaves[7].CumulativeAmount + 1, tree.GetProofHashes(leaves[7].Account)));
    }
}
