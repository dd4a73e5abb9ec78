using System.Diagnostics;
using System.Numerics;
using DePin.Settlement.Merkle;
using Nethereum.ABI;
using Nethereum.Util;

// Settlement tree benchmark: build a cumulative Merkle tree of N (account, cumulative) leaves and every proof, with
// the hand-written Keccak (DePin.Settlement.Merkle) against a baseline in the same process: hashing the same leaves
// with Nethereum's ABI encoder and Sha3Keccack (what a straightforward implementation would use). Goal: 100,000
// leaves + all proofs < 1 s. Run: dotnet build -c Release bench/DePin.Settlement.Bench && dotnet bench/DePin.Settlement.Bench/bin/Release/net10.0/DePin.Settlement.Bench.dll [N]
var n = args.Length > 0 ? int.Parse(args[0]) : 100_000;
var rng = new Random(42);
var leaves = new List<CumulativeLeaf>(n);
for (var i = 0; i < n; i++)
{
    var b = new byte[20];
    rng.NextBytes(b);
    b[0] |= 1;
    leaves.Add(new CumulativeLeaf("0x" + Convert.ToHexStringLower(b), new BigInteger(rng.NextInt64(1, long.MaxValue))));
}

CumulativeMerkleTree.Build(leaves.Take(1000)); // warm-up
var best = TimeSpan.MaxValue;
var buildBest = TimeSpan.MaxValue;
for (var run = 0; run < 3; run++)
{
    var sw = Stopwatch.StartNew();
    var tree = CumulativeMerkleTree.Build(leaves);
    var build = sw.Elapsed;
    long proofNodes = 0;
    for (var i = 0; i < tree.Count; i++) proofNodes += tree.GetProofHashes(i).Length;
    sw.Stop();
    if (sw.Elapsed < best) best = sw.Elapsed;
    if (build < buildBest) buildBest = build;
}

// Baseline: only the leaf hashes (keccak256(bytes.concat(keccak256(abi.encode(account, amount))))), Nethereum's way.
var keccak = new Sha3Keccack();
var abi = new ABIEncode();
var baselineBest = TimeSpan.MaxValue;
for (var run = 0; run < 3; run++)
{
    var sw = Stopwatch.StartNew();
    foreach (var leaf in leaves)
    {
        var inner = keccak.CalculateHash(abi.GetABIEncoded(new ABIValue("address", leaf.Account), new ABIValue("uint256", leaf.CumulativeAmount)));
        keccak.CalculateHash(inner);
    }
    sw.Stop();
    if (sw.Elapsed < baselineBest) baselineBest = sw.Elapsed;
}

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; best of 3 runs");
Console.WriteLine("| measure | value |");
Console.WriteLine("|---|---|");
Console.WriteLine($"| leaves | {n:N0} |");
Console.WriteLine($"| tree build (hash, sort, levels) | {buildBest.TotalMilliseconds:F0} ms |");
Console.WriteLine($"| tree build + every proof | {best.TotalMilliseconds:F0} ms (goal < 1000 ms) |");
Console.WriteLine($"| baseline: leaf hashes only, Nethereum ABIEncode + Sha3Keccack | {baselineBest.TotalMilliseconds:F0} ms |");
Console.WriteLine($"| whole tree + proofs ÷ baseline leaf hashes | {best.TotalMilliseconds / baselineBest.TotalMilliseconds:F2} |");
