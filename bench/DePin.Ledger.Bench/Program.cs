using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using DePin.Abstractions.Rewards;
using DePin.Grains;
using DePin.Grains.Rewards;
using DePin.Settlement.Merkle;
using DePin.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

// Ledger year: A accounts, E epochs, a share of the accounts credited before each close, all through the real grains on
// one in-process silo (Redis storage with --redis host:port, else the embedded memory storage). Prints the close time,
// the largest stored value, Redis memory and the silo's memory. --quick: 10,000 accounts, 20 epochs.
var quick = args.Contains("--quick");
var accountCount = ArgValue("--accounts", quick ? 10_000 : 100_000);
var epochCount = ArgValue("--epochs", quick ? 20 : 1_000);
var changingPercent = ArgValue("--changing-percent", 10);
var sampleEvery = ArgValue("--sample-every", Math.Max(1, epochCount / 10));
var redisEndpoint = ArgString("--redis");

var app = DePinSilo.Build([], b =>
{
    b.Configuration["Silo:SiloPort"] = FreePort().ToString();
    b.Configuration["Silo:GatewayPort"] = FreePort().ToString();
    b.Configuration["Silo:Roles"] = "api";
    b.Configuration["urls"] = $"http://127.0.0.1:{FreePort()}";
    b.Configuration["Ledger:EpochPeriod"] = "00:00:00";
    b.Configuration["Auth:KeysDirectory"] = Path.Combine(Path.GetTempPath(), "depin-ledger-bench-keys");
    b.Configuration["Logging:LogLevel:Default"] = "Warning";
    if (redisEndpoint is not null)
    {
        b.Configuration["Silo:Redis"] = redisEndpoint;
        b.Configuration["Silo:Tls:Mode"] = "Off"; // one silo on loopback
        b.Configuration["Silo:ClusterId"] = "ledger-bench-" + Guid.NewGuid().ToString("N")[..8];
        b.Configuration["Silo:ServiceId"] = "ledger-bench-" + Guid.NewGuid().ToString("N")[..8]; // keys of no earlier run
    }
});
await app.StartAsync();
var grains = app.Services.GetRequiredService<IGrainFactory>();
var ledger = grains.GetGrain<ILedgerGrain>(0);
var redis = redisEndpoint is null ? null : await ConnectionMultiplexer.ConnectAsync(redisEndpoint + ",allowAdmin=true");

Console.WriteLine($"config: {accountCount:N0} accounts, {epochCount:N0} epochs, {changingPercent} % of accounts credited per epoch, "
    + $"{(redis is null ? "in-memory storage" : "Redis " + redis.GetServer(redisEndpoint!).Version + " at " + redisEndpoint)}, settlement off, "
    + $"{Environment.ProcessorCount} cores, load {Load()}");

var accounts = Enumerable.Range(1, accountCount).Select(i => "0x" + i.ToString("x40")).ToArray();
var random = new Random(42);
var closes = new List<double>();
var creditTime = Stopwatch.StartNew();
await CreditAsync(accounts, 0);
creditTime.Stop();
var creditsDone = (long)accountCount;
var total = Stopwatch.StartNew();
for (var epoch = 1; epoch <= epochCount; epoch++)
{
    if (epoch > 1)
    {
        var changing = random.GetItems(accounts, accountCount * changingPercent / 100).Distinct().ToArray();
        creditTime.Start();
        await CreditAsync(changing, epoch);
        creditTime.Stop();
        creditsDone += changing.Length;
    }
    var sw = Stopwatch.StartNew();
    var closed = await ledger.CloseEpochAsync() ?? throw new InvalidOperationException($"epoch {epoch}: nothing closed");
    closes.Add(sw.Elapsed.TotalMilliseconds);
    if (epoch % sampleEvery == 0 || epoch == 1)
    {
        var (ledgerBytes, shardMax) = await StateSizesAsync();
        Console.WriteLine($"epoch {closed.Epoch,5}: close {closes[^1],7:F0} ms, read {closed.AccountsRead,7:N0}, paid {closed.ChangedAccounts,7:N0}, "
            + $"tree {closed.AccountCount,7:N0} accounts | ledger state {ledgerBytes:N0} B, largest shard state {shardMax:N0} B"
            + (redis is null ? "" : $" | Redis used_memory {UsedMemory():N0} B")
            + $" | closes so far p50/p95/max {Summary()} | {total.Elapsed.TotalSeconds:F0} s, load {Load()}");
    }
}

closes.Sort();
Console.WriteLine($"epoch close: p50 {Percentile(0.50):F0} ms, p95 {Percentile(0.95):F0} ms, max {closes[^1]:F0} ms over {closes.Count} closes "
    + $"(first, with all {accountCount:N0} accounts new: included)");
Console.WriteLine($"credits: {creditsDone:N0} in {creditTime.Elapsed.TotalSeconds:F0} s ({creditsDone / creditTime.Elapsed.TotalSeconds:N0}/s)");

// What a settling silo adds to each close: the Merkle tree over every account (built from the shards' amounts).
var amounts = new List<CumulativeLeaf>();
foreach (var shard in await Task.WhenAll(Enumerable.Range(0, LedgerShards.Count).Select(i => grains.GetGrain<ILedgerShardGrain>(i).GetSettledAsync())))
    amounts.AddRange(shard.Select(e => new CumulativeLeaf(e.Address, new BigInteger(e.CumulativeMicroCredits) * 1_000_000_000_000)));
var treeTime = Stopwatch.StartNew();
var tree = CumulativeMerkleTree.Build(amounts);
Console.WriteLine($"Merkle tree of {tree.Count:N0} accounts (settlement on adds this to a close): {treeTime.Elapsed.TotalMilliseconds:F0} ms");

if (redis is not null)
{
    var (largestKey, largestField, largestBytes, keys, values) = await LargestRedisValueAsync();
    Console.WriteLine($"Redis: {keys:N0} keys, {values:N0} values; largest value {largestBytes:N0} B ({largestKey} {largestField}); "
        + $"used_memory {UsedMemory():N0} B");
}
GC.Collect();
var gc = GC.GetGCMemoryInfo();
Console.WriteLine($"silo process: GC heap {GC.GetTotalMemory(false):N0} B (heap size {gc.HeapSizeBytes:N0} B), "
    + $"working set {Environment.WorkingSet:N0} B; total {total.Elapsed.TotalSeconds:F0} s; load {Load()}");
await app.StopAsync();
return;

async Task CreditAsync(IReadOnlyList<string> who, int epoch)
{
    // Unit index = epoch: one bit per epoch in the account's de-dup bitmap of job "year".
    for (var i = 0; i < who.Count; i += 2_000)
    {
        await Task.WhenAll(who.Skip(i).Take(2_000).Select(a =>
            grains.GetGrain<IRewardAccountGrain>(a).CreditAsync([new UnitCredit("year", epoch, "node-1/gpu-0", 1_000 + epoch)])));
    }
}

async Task<(int Ledger, int LargestShard)> StateSizesAsync()
{
    var storage = app.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Store);
    var serializer = app.Services.GetRequiredService<Serializer>();
    async Task<int> SizeAsync<T>(string name, GrainId id) where T : new()
    {
        var state = new GrainState<T>(new T());
        await storage.ReadStateAsync(name, id, state);
        return serializer.SerializeToArray(state.State).Length;
    }
    var ledgerBytes = await SizeAsync<LedgerState>("ledger", ledger.GetGrainId());
    var shards = await Task.WhenAll(Enumerable.Range(0, LedgerShards.Count)
        .Select(i => SizeAsync<LedgerShardState>("ledgershard", grains.GetGrain<ILedgerShardGrain>(i).GetGrainId())));
    return (ledgerBytes, shards.Max());
}

long UsedMemory()
{
    var info = redis!.GetServer(redisEndpoint!).Info("memory").SelectMany(g => g).First(kv => kv.Key == "used_memory");
    return long.Parse(info.Value);
}

async Task<(string Key, string Field, long Bytes, long Keys, long Values)> LargestRedisValueAsync()
{
    var server = redis!.GetServer(redisEndpoint!);
    var db = redis.GetDatabase();
    (string, string, long) largest = ("", "", 0);
    long keys = 0, values = 0;
    foreach (var page in server.Keys(pageSize: 1000).Chunk(1000))
    {
        var types = await Task.WhenAll(page.Select(k => db.KeyTypeAsync(k)));
        var strings = page.Where((_, i) => types[i] == RedisType.String).ToArray();
        var lengths = await Task.WhenAll(strings.Select(k => db.StringLengthAsync(k)));
        keys += page.Length;
        values += strings.Length;
        for (var i = 0; i < strings.Length; i++)
        {
            if (lengths[i] > largest.Item3) largest = (strings[i]!, "", lengths[i]);
        }
        foreach (var hash in page.Where((_, i) => types[i] == RedisType.Hash))
        {
            var fields = await db.HashKeysAsync(hash);
            var fieldLengths = await Task.WhenAll(fields.Select(f => db.ExecuteAsync("HSTRLEN", hash, f)));
            values += fields.Length;
            for (var i = 0; i < fields.Length; i++)
            {
                if ((long)fieldLengths[i] > largest.Item3) largest = (hash!, fields[i]!, (long)fieldLengths[i]);
            }
        }
    }
    return (largest.Item1, largest.Item2, largest.Item3, keys, values);
}

double Percentile(double p) => closes[Math.Min(closes.Count - 1, (int)(p * closes.Count))];

string Summary()
{
    var sorted = closes.Order().ToList();
    double At(double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
    return $"{At(0.5):F0}/{At(0.95):F0}/{sorted[^1]:F0} ms";
}

static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

int ArgValue(string name, int fallback) => ArgString(name) is { } v ? int.Parse(v) : fallback;

string? ArgString(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}
