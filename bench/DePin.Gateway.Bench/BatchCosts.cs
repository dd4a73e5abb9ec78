using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using DePin.NodeProtocol;
using Nethereum.Signer;

namespace DePin.Gateway.Bench;

/// <summary>
/// The per-batch work the HTTP path adds to an in-cluster lease/report, one step at a time on one thread: JSON with
/// base64 blobs, the node's EIP-191 report signature and the server's public-key recovery. Each figure is the mean over
/// at least 50 runs and 300 ms, so the garbage collections a step causes are in it (BouncyCastle's big integers
/// allocate on every operation).
/// </summary>
sealed record BatchCosts(int Units, IReadOnlyList<(string Step, double Micros)> Steps)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly EthereumMessageSigner Nethereum = new();

    public static BatchCosts Measure(int units)
    {
        var key = EthECKey.GenerateKey();
        var address = key.GetPublicAddress();
        var nodeId = address.ToLowerInvariant() + "/cpu0";
        var jobId = Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow;
        var leases = new LeaseWorkResponse([.. Enumerable.Range(0, units).Select(i => new LeasedUnit(1_000_000 + i, jobId, i, "saxpy",
            """{"a":2,"unitSize":1}""", 100_000, new byte[8], now, now, 1))]);
        var results = Enumerable.Range(0, units).Select(i => new ReportedUnit(1_000_000 + i, jobId, i, new byte[4],
            Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i))), null, 0.01)).ToList();
        var signature = NodeSignatures.Sign(NodeSignatures.ReportMessage(nodeId, results), key);
        var report = new ReportWorkRequest(nodeId, results, signature);
        var leaseBytes = JsonSerializer.SerializeToUtf8Bytes(leases, Json);
        var reportBytes = JsonSerializer.SerializeToUtf8Bytes(report, Json);

        return new BatchCosts(units,
        [
            ($"lease response to JSON ({leaseBytes.Length / 1024.0:F0} KiB, server)", Mean(() => JsonSerializer.SerializeToUtf8Bytes(leases, Json))),
            ("lease response from JSON (agent)", Mean(() => JsonSerializer.Deserialize<LeaseWorkResponse>(leaseBytes, Json))),
            ("report text + EIP-191 signature (agent)", Mean(() => NodeSignatures.Sign(NodeSignatures.ReportMessage(nodeId, results), key))),
            ($"report to JSON ({reportBytes.Length / 1024.0:F0} KiB, agent)", Mean(() => JsonSerializer.SerializeToUtf8Bytes(report, Json))),
            ("report from JSON (server)", Mean(() => JsonSerializer.Deserialize<ReportWorkRequest>(reportBytes, Json))),
            ("report text + signer recovery (server)", Mean(() => NodeSignatures.IsSignedBy(NodeSignatures.ReportMessage(nodeId, results), signature, address))),
            // Baseline in the same process: Nethereum's BouncyCastle signer, which NodeSignatures used before.
            ("for comparison: report text + Nethereum's BouncyCastle signature", Mean(() => Nethereum.EncodeUTF8AndSign(NodeSignatures.ReportMessage(nodeId, results), key))),
            ("for comparison: report text + Nethereum's BouncyCastle recovery", Mean(() => Nethereum.EncodeUTF8AndEcRecover(NodeSignatures.ReportMessage(nodeId, results), signature))),
        ]);
    }

    private static double Mean(Func<object?> step)
    {
        for (var i = 0; i < 3; i++) step();
        var start = Stopwatch.GetTimestamp();
        var runs = 0;
        while (runs < 50 || Stopwatch.GetElapsedTime(start).TotalMilliseconds < 300)
        {
            step();
            runs++;
        }
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / runs;
    }
}
