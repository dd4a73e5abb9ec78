using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

// Cluster scale figures (docs/cluster.md):
//   throughput [maxSilos=3] [units=60000] [samplesPerUnit=100]  units/s with 1..maxSilos silo processes on one Redis
//   memory [queuedUnits=1000000] [nodes=100000]                 memory per queued unit and per registered node
// Everything runs on 127.0.0.1 with a redis-server child process. Build Release: dotnet run -c Release --project bench/DePin.Cluster.Bench -- throughput
var mode = args.FirstOrDefault() ?? "throughput";
int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i]) : fallback;
return mode switch
{
    "throughput" => await Throughput(Arg(1, 3), Arg(2, 60_000), Arg(3, 100)),
    "memory" => await Memory(Arg(1, 1_000_000), Arg(2, 100_000)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: DePin.Cluster.Bench throughput [maxSilos] [units] [samplesPerUnit] | memory [queuedUnits] [nodes]");
    return 2;
}

static async Task<int> Throughput(int maxSilos, int units, int samplesPerUnit)
{
    var root = new DirectoryInfo(AppContext.BaseDirectory);
    while (root is not null && !File.Exists(Path.Combine(root.FullName, "DePin.Orleans.sln"))) root = root.Parent;
    var silo = Path.Combine(root!.FullName, "src", "DePin.Silo", "bin", "Release", "net10.0", "DePin.Silo.dll");
    Console.WriteLine($"# throughput: montecarlo-pi, {units} units x {samplesPerUnit} samples, Worker:BatchSize 128, {Environment.ProcessorCount} cores");
    Console.WriteLine("silos | units/s (first result to last) | wall s (submit to completed)");
    for (var n = 1; n <= maxSilos; n++)
    {
        await using var redis = await Redis.StartAsync();
        var procs = new List<Process>();
        try
        {
            var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..8];
            var ports = new List<int>();
            for (var i = 0; i < n; i++)
            {
                var http = Redis.FreePort();
                ports.Add(http);
                var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
                psi.ArgumentList.Add(silo);
                psi.Environment["DEPIN_Silo__Redis"] = redis.ConnectionString;
                // Loopback bench: plain silo connections (the documented dev opt-out); production runs mutual TLS.
                psi.Environment["DEPIN_Silo__Tls__Mode"] = "Off";
                psi.Environment["DEPIN_Silo__Roles"] = i == 0 ? "api,gpu" : "gpu";
                psi.Environment["DEPIN_Auth__AdminKey"] = BenchKeys.Admin;
                psi.Environment["DEPIN_Auth__BootstrapKeys"] = "false";
                psi.Environment["DEPIN_Silo__ClusterId"] = clusterId;
                psi.Environment["DEPIN_Silo__ServiceId"] = clusterId;
                psi.Environment["DEPIN_Silo__SiloPort"] = Redis.FreePort().ToString();
                psi.Environment["DEPIN_Silo__GatewayPort"] = Redis.FreePort().ToString();
                psi.Environment["DEPIN_Worker__NodeName"] = $"bench{i}";
                psi.Environment["DEPIN_Worker__ProbeOnStart"] = "false";
                psi.Environment["DEPIN_Ledger__EpochPeriod"] = "00:00:00";
                psi.Environment["DEPIN_Logging__LogLevel__Default"] = "Warning";
                psi.Environment["DEPIN_urls"] = $"http://127.0.0.1:{http}";
                var p = Process.Start(psi)!;
                p.OutputDataReceived += (_, _) => { };
                p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[silo{i}] {e.Data}"); };
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                procs.Add(p);
                if (i == 0) await WaitHealthy(ports[0]);
            }
            foreach (var port in ports) await WaitHealthy(port);
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}") };
            api.DefaultRequestHeaders.Authorization = new("Bearer", BenchKeys.Admin);
            // Wait until every silo's node is registered.
            while ((await api.GetFromJsonAsync<JsonElement>("/nodes")).GetArrayLength() < n) await Task.Delay(100);

            var body = JsonSerializer.Serialize(new { kernel = "montecarlo-pi", parameters = new { units, samples = (long)units * samplesPerUnit, seed = 1 } });
            var sw = Stopwatch.StartNew();
            using var r = await api.PostAsync("/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
            r.EnsureSuccessStatusCode();
            var jobId = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString();
            TimeSpan? first = null;
            JsonElement job;
            while (true)
            {
                job = await api.GetFromJsonAsync<JsonElement>($"/jobs/{jobId}");
                if (first is null && job.GetProperty("unitsCompleted").GetInt32() > 0) first = sw.Elapsed;
                if (job.GetProperty("status").GetString() is "Completed" or "Failed") break;
                await Task.Delay(20);
            }
            var wall = sw.Elapsed;
            var started = job.GetProperty("startedAt").GetDateTimeOffset();
            var finished = job.GetProperty("finishedAt").GetDateTimeOffset();
            var busy = (finished - started).TotalSeconds;
            Console.WriteLine($"{n} | {units / busy:F0} | {wall.TotalSeconds:F1}");
        }
        finally
        {
            foreach (var p in procs) { try { p.Kill(); p.WaitForExit(); } catch (InvalidOperationException) { } p.Dispose(); }
        }
    }
    return 0;
}

static async Task<int> Memory(int queuedUnits, int nodes)
{
    await using var redis = await Redis.StartAsync();
    var http = Redis.FreePort();
    var config = new Dictionary<string, string?>
    {
        ["Silo:Redis"] = redis.ConnectionString,
        ["Silo:Tls:Mode"] = "Off", // one silo on loopback: no peers to authenticate
        ["Silo:Roles"] = "api", // no workers: units stay queued
        ["Silo:SiloPort"] = Redis.FreePort().ToString(),
        ["Silo:GatewayPort"] = Redis.FreePort().ToString(),
        ["Silo:ClusterId"] = "bench-mem",
        ["Ledger:EpochPeriod"] = "00:00:00",
        ["urls"] = $"http://127.0.0.1:{http}",
        ["Logging:LogLevel:Default"] = "Warning",
    };
    var app = DePinSilo.Build([], b => b.Configuration.AddInMemoryCollection(config));
    await app.StartAsync();
    var grains = app.Services.GetRequiredService<IGrainFactory>();
    await using var redisClient = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
    var server = redisClient.GetServer(redisClient.GetEndPoints()[0]);

    // Warm up the shards and grain types so their fixed costs are not counted per unit.
    await grains.GetGrain<IJobGrain>("warmup").SubmitAsync(new JobRequest { Kernel = "montecarlo-pi", ParametersJson = "{\"units\":64,\"samples\":6400}" });
    await grains.GetGrain<INodeGrain>("warmup/cpu0").RegisterAsync(Registration());

    var (heap0, ws0, redis0) = await Measure(server);
    const int perJob = 62_500;
    var sw = Stopwatch.StartNew();
    for (var queued = 0; queued < queuedUnits; queued += perJob)
    {
        var n = Math.Min(perJob, queuedUnits - queued);
        var outcome = await grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString("N")).SubmitAsync(new JobRequest
        {
            Kernel = "montecarlo-pi",
            ParametersJson = $"{{\"units\":{n},\"samples\":{n * 1000L}}}",
        });
        if (!outcome.Accepted) throw new InvalidOperationException(outcome.Error);
    }
    var enqueueSeconds = sw.Elapsed.TotalSeconds;
    var (heap1, ws1, redis1) = await Measure(server);
    Console.WriteLine($"# memory: {queuedUnits} queued montecarlo-pi units (empty inputs) in {queuedUnits / perJob + (queuedUnits % perJob > 0 ? 1 : 0)} jobs, api-only silo on Redis, enqueued in {enqueueSeconds:F1} s");
    Console.WriteLine($"silo GC heap: {heap0 / 1e6:F1} -> {heap1 / 1e6:F1} MB = {(double)(heap1 - heap0) / queuedUnits:F0} B/unit");
    Console.WriteLine($"silo working set: {ws0 / 1e6:F1} -> {ws1 / 1e6:F1} MB = {(double)(ws1 - ws0) / queuedUnits:F0} B/unit");
    Console.WriteLine($"redis used_memory: {redis0 / 1e6:F1} -> {redis1 / 1e6:F1} MB = {(double)(redis1 - redis0) / queuedUnits:F0} B/unit");

    sw.Restart();
    const int concurrency = 512;
    for (var start = 0; start < nodes; start += concurrency)
    {
        await Task.WhenAll(Enumerable.Range(start, Math.Min(concurrency, nodes - start))
            .Select(i => grains.GetGrain<INodeGrain>($"bench-node-{i}/cpu0").RegisterAsync(Registration())));
    }
    var registerSeconds = sw.Elapsed.TotalSeconds;
    var (heap2, ws2, redis2) = await Measure(server);
    Console.WriteLine($"# memory: {nodes} registered nodes (NodeGrain activations + node directory), registered in {registerSeconds:F1} s ({nodes / registerSeconds:F0}/s)");
    Console.WriteLine($"silo GC heap: {heap1 / 1e6:F1} -> {heap2 / 1e6:F1} MB = {(double)(heap2 - heap1) / nodes:F0} B/node");
    Console.WriteLine($"silo working set: {ws1 / 1e6:F1} -> {ws2 / 1e6:F1} MB = {(double)(ws2 - ws1) / nodes:F0} B/node");
    Console.WriteLine($"redis used_memory: {redis1 / 1e6:F1} -> {redis2 / 1e6:F1} MB = {(double)(redis2 - redis1) / nodes:F0} B/node");

    await app.StopAsync();
    await app.DisposeAsync();
    return 0;

    static NodeRegistration Registration() => new()
    {
        OperatorAddress = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
        SiloAddress = "bench",
        Capabilities = new NodeCapabilities { DeviceName = "bench", DeviceKind = "VectorCpu", MemoryBytes = 1 << 30, ComputeUnits = 2, WarpSize = 8 },
    };
}

static async Task<(long Heap, long WorkingSet, long Redis)> Measure(IServer server)
{
    await Task.Delay(500);
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    var heap = GC.GetTotalMemory(forceFullCollection: true);
    using var self = Process.GetCurrentProcess();
    self.Refresh();
    var info = await server.InfoAsync("memory");
    var used = long.Parse(info.SelectMany(g => g).First(kv => kv.Key == "used_memory").Value);
    return (heap, self.WorkingSet64, used);
}

static async Task WaitHealthy(int port)
{
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
    while (true)
    {
        try
        {
            if ((await http.GetAsync($"http://127.0.0.1:{port}/health")).IsSuccessStatusCode) return;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
        if (DateTime.UtcNow > deadline) throw new TimeoutException($"silo on http port {port} not healthy");
        await Task.Delay(100);
    }
}

/// <summary>A throwaway redis-server child process on a free loopback port (no persistence).</summary>
sealed class Redis : IAsyncDisposable
{
    private readonly Process _process;
    private Redis(Process process, int port) { _process = process; Port = port; }
    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<Redis> StartAsync()
    {
        var port = FreePort();
        var psi = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var a in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" }) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("redis-server is not installed (deploy/install-deps.sh)");
        p.OutputDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        while (true)
        {
            try
            {
                await using var c = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},connectTimeout=500");
                break;
            }
            catch (RedisConnectionException) { await Task.Delay(50); }
        }
        return new Redis(p, port);
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}

/// <summary>A throw-away admin API key for this bench run's silos (registered through <c>Auth:AdminKey</c>).</summary>
internal static class BenchKeys
{
    public static readonly string Admin = "dpk_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)) + "_"
        + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
