using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Scheduling;
using DePin.Silo.Hosting;
using DePin.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Pipeline benchmark: many small units through the full pipeline (job → shards → worker lease → kernel → report →
// verify → job outputs → credits) on one in-process silo with embedded defaults, plus an in-process baseline of empty
// grain calls so the figure can be read as a ratio on any machine.
// --small-jobs 1000,10000,100000: many one-unit jobs through the HTTP API instead (SmallJobsBench.cs).
if (Array.IndexOf(args, "--small-jobs") is var small and >= 0)
{
    var phases = small + 1 < args.Length ? args[small + 1].Split(',').Select(int.Parse).ToArray() : [1_000, 10_000, 100_000];
    await SmallJobsBench.RunAsync(phases, ArgValue("--clients", 16), ArgValue("--warmup", 5_000));
    return;
}

var units = ArgValue("--units", 200_000);
var jobs = ArgValue("--jobs", 4);
var batch = ArgValue("--batch", 256);
var shards = ArgValue("--shards", 8);
var unitsPerJob = units / jobs;
// --redis: the same pipeline on durable storage (a redis-server child process on a free loopback port).
using var redis = args.Contains("--redis") ? RedisChild.Start() : null;

var waits = new ConcurrentBag<double>();
using var listener = new MeterListener();
listener.InstrumentPublished = (instrument, l) =>
{
    if (instrument.Meter.Name == SchedulerMetrics.MeterName && instrument.Name == "depin.unit.queue_wait") l.EnableMeasurementEvents(instrument);
};
listener.SetMeasurementEventCallback<double>((_, value, _, _) => waits.Add(value));
listener.Start();

var app = DePinSilo.Build([], b =>
{
    b.Configuration["Silo:SiloPort"] = FreePort().ToString();
    b.Configuration["Silo:GatewayPort"] = FreePort().ToString();
    b.Configuration["urls"] = $"http://127.0.0.1:{FreePort()}";
    b.Configuration["Scheduler:QueueShards"] = shards.ToString();
    b.Configuration["Worker:BatchSize"] = batch.ToString();
    b.Configuration["Worker:ProbeOnStart"] = "false";
    b.Configuration["Ledger:EpochPeriod"] = "00:00:00";
    b.Configuration["Logging:LogLevel:Default"] = "Warning";
    if (redis is not null)
    {
        b.Configuration["Silo:Redis"] = redis.Endpoint;
        b.Configuration["Silo:Tls:Mode"] = "Off"; // one silo on loopback: no peers to authenticate
        b.Configuration["Silo:ClusterId"] = "bench-" + Guid.NewGuid().ToString("N")[..8];
    }
});
await app.StartAsync();
var grains = app.Services.GetRequiredService<IGrainFactory>();

// Baseline: empty grain calls per second in this process (8 concurrent callers).
var probe = grains.GetGrain<IWorkQueueGrain>(0);
await probe.GetStatsAsync();
var baselineCalls = 100_000;
var sw = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
{
    for (var i = 0; i < baselineCalls / 8; i++) await probe.GetStatsAsync();
}));
var callsPerSecond = baselineCalls / sw.Elapsed.TotalSeconds;

// Trivial kernel: SAXPY with one element per unit, so the cost per unit is the scheduler's.
var x = string.Join(',', Enumerable.Range(0, unitsPerJob).Select(i => (i % 100).ToString()));
var parameters = $$$"""{"a": 2, "x": [{{{x}}}], "y": [{{{x}}}], "unitSize": 1}""";
waits.Clear();
sw.Restart();
var jobIds = await Task.WhenAll(Enumerable.Range(0, jobs).Select(async _ =>
{
    var id = Guid.NewGuid().ToString("N");
    var outcome = await grains.GetGrain<IJobGrain>(id).SubmitAsync(new JobRequest { Kernel = "saxpy", ParametersJson = parameters });
    if (!outcome.Accepted) throw new InvalidOperationException(outcome.Error);
    return id;
}));
var submitted = sw.Elapsed;
foreach (var id in jobIds)
{
    while (true)
    {
        var view = await grains.GetGrain<IJobGrain>(id).GetAsync();
        if (view!.Status.IsTerminal())
        {
            if (view.Status != JobStatus.Completed) throw new InvalidOperationException($"job {id} {view.Status}: {view.Error}");
            break;
        }
        await Task.Delay(5);
    }
}
var elapsed = sw.Elapsed;
var saturated = waits.Order().ToArray();

// Light load: one single-unit job at a time, so the figure is the scheduler's latency, not a backlog's.
waits.Clear();
var lightJobs = ArgValue("--light-jobs", 200);
const string lightParameters = "{\"samples\": 1000, \"units\": 1}";
for (var i = 0; i < lightJobs; i++)
{
    var job = grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString("N"));
    await job.SubmitAsync(new JobRequest { Kernel = "montecarlo-pi", ParametersJson = lightParameters });
    while ((await job.GetAsync())!.Status != JobStatus.Completed) await Task.Delay(1);
}
var light = waits.Order().ToArray();
await app.StopAsync();

var total = unitsPerJob * jobs;
var unitsPerSecond = total / elapsed.TotalSeconds;
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
Console.WriteLine($"config: {jobs} jobs x {unitsPerJob} units, lease batch {batch}, {shards} shards, {(redis is null ? "in-memory storage" : "Redis storage (" + redis.Version + ", no persistence)")}, 1 silo, vectorised CPU device");
Console.WriteLine("| metric | value |");
Console.WriteLine("|---|---|");
Console.WriteLine($"| baseline: empty grain calls/s (same process, 8 callers) | {callsPerSecond:N0} |");
Console.WriteLine($"| units | {total:N0} |");
Console.WriteLine($"| submit (validate + split + enqueue) | {submitted.TotalMilliseconds:N0} ms |");
Console.WriteLine($"| end to end (submit → all jobs Completed) | {elapsed.TotalMilliseconds:N0} ms |");
Console.WriteLine($"| work units/s | {unitsPerSecond:N0} |");
Console.WriteLine($"| units/s ÷ empty grain calls/s | {unitsPerSecond / callsPerSecond:F3} |");
Console.WriteLine($"| submit-to-start p50 / p99, saturated (all {total:N0} queued at once) | {Pct(saturated, 0.50):F0} ms / {Pct(saturated, 0.99):F0} ms |");
Console.WriteLine($"| submit-to-start p50 / p99, light load ({lightJobs} single-unit jobs, one at a time) | {Pct(light, 0.50):F1} ms / {Pct(light, 0.99):F1} ms |");
return;

int ArgValue(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

static double Pct(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

/// <summary>A throwaway redis-server for the --redis mode.</summary>
sealed class RedisChild : IDisposable
{
    private readonly System.Diagnostics.Process _process;
    private RedisChild(System.Diagnostics.Process process, string endpoint, string version) => (_process, Endpoint, Version) = (process, endpoint, version);
    public string Endpoint { get; }
    public string Version { get; }

    public static RedisChild Start()
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; }
        var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("redis-server",
            $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no")
        { RedirectStandardOutput = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("redis-server did not start (apt-get install redis-server)");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var c = new TcpClient("127.0.0.1", port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
        var version = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("redis-server", "--version") { RedirectStandardOutput = true })!
            .StandardOutput.ReadToEnd().Split(' ').FirstOrDefault(w => w.StartsWith("v=", StringComparison.Ordinal))?[2..] ?? "?";
        return new RedisChild(process, $"127.0.0.1:{port}", "Redis " + version);
    }

    public void Dispose()
    {
        try { _process.Kill(); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
