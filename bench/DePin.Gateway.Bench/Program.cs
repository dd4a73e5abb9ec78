using System.Diagnostics;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Gateway.Bench;
using DePin.Node;
using DePin.NodeProtocol;
using DePin.Silo.Hosting;
using DePin.Silo.Leasing;
using DePin.Silo.Workers;
using DePin.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Nethereum.Signer;

// Node gateway benchmark: community agents over loopback HTTP against one in-process API silo, each figure next to the
// same silo's in-cluster workers (grain calls) measured in the same process, so the figures read as ratios.
//   1. throughput: N remote agents (NodeGatewayClient + NodeWorker + RemoteWorkTransport) vs N in-cluster workers
//      (ClusterWorkTransport over the silo's LeaseBroker), single-element SAXPY units (the cost per unit is the path's);
//   2. latency: submit a 1-unit job → a node already waiting in a long poll has its lease;
//   3. idle agents: thousands of logged-in agents in a child process, each holding a 20 s long poll: server requests/s
//      per agent and server memory per agent.
if (args.Contains(IdleAgents.ChildFlag)) return await IdleAgents.RunChildAsync(args);

var quick = args.Contains("--quick");
var agentCount = Arg("--agents", 4);
var units = Arg("--units", quick ? 20_000 : 100_000);
var jobs = Arg("--jobs", 4);
var batches = ArgList("--batch", quick ? [256] : [64, 256, 1024]);
var shards = Arg("--shards", 8);
var trials = Arg("--trials", quick ? 20 : 100);
var idleAgentCount = Arg("--idle-agents", quick ? 100 : 5000);
// Long polls last 20 s: the quick window sees each agent renew its poll about once.
var idleSeconds = Arg("--idle-seconds", quick ? 21 : 60);
var loadAtStart = MachineLoad.Read();

using var http = new ServerRequestCounter();
var httpPort = FreePort();
var app = DePinSilo.Build([], b =>
{
    b.Configuration["Silo:Roles"] = "api";
    b.Configuration["Silo:SiloPort"] = FreePort().ToString();
    b.Configuration["Silo:GatewayPort"] = FreePort().ToString();
    b.Configuration["urls"] = $"http://127.0.0.1:{httpPort}";
    b.Configuration["Scheduler:QueueShards"] = shards.ToString();
    b.Configuration["Ledger:EpochPeriod"] = "00:00:00";
    b.Configuration["NodeGateway:LoginsPerMinute"] = "0";
    b.Configuration["Logging:LogLevel:Default"] = "Warning";
});
await app.StartAsync();
var api = new Uri($"http://127.0.0.1:{httpPort}");
var grains = app.Services.GetRequiredService<IGrainFactory>();
var broker = app.Services.GetRequiredService<LeaseBroker>();
var siloAddress = app.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString();
var root = Directory.CreateTempSubdirectory("depin-gateway-bench-").FullName;
var payoutKey = EthECKey.GenerateKey();
var description = new DeviceDescription("cpu0", new DeviceCapabilities("bench cpu", "VectorCpu", 1L << 34, 2, 1, 5, 1));
var capabilities = new NodeCapabilities { DeviceName = "bench cpu", DeviceKind = "VectorCpu", MemoryBytes = 1L << 34, ComputeUnits = 2, WarpSize = 1 };

try
{
    // Remote agents log in once; in-cluster nodes register once, as a GPU silo's NodeWorkerService does.
    var remote = new List<(NodeGatewayClient Client, string NodeId)>();
    for (var i = 0; i < agentCount; i++)
    {
        var identity = NodeIdentity.Create(Path.Combine(root, $"agent{i}"), payoutKey.GetPublicAddress(), payoutKey, null, "bench", scryptN: 1 << 10).Identity;
        var client = new NodeGatewayClient(api, identity, [description]);
        await client.LoginAsync(CancellationToken.None);
        remote.Add((client, client.NodeIds[0]));
    }
    var cluster = new List<string>();
    for (var i = 0; i < agentCount; i++)
    {
        var nodeId = $"bench-cluster/cpu{i}";
        await grains.GetGrain<INodeGrain>(nodeId).RegisterAsync(new NodeRegistration
        {
            OperatorAddress = payoutKey.GetPublicAddress().ToLowerInvariant(),
            SiloAddress = siloAddress,
            Capabilities = capabilities,
        });
        cluster.Add(nodeId);
    }
    IWorkTransport Remote(int i) => new RemoteWorkTransport(remote[i].NodeId, remote[i].Client);
    IWorkTransport Cluster(int i) => new ClusterWorkTransport(cluster[i], capabilities, broker, grains, NullLogger.Instance);

    // 1. Throughput. A small warm-up per mode (JIT, grain activations), then the measured run; remote first, then
    // in-cluster, at each batch size.
    var throughput = new List<(int Batch, Throughput Remote, Throughput Cluster)>();
    foreach (var batch in batches)
    {
        // --cluster-first: the in-cluster run before the remote one (to see what the order does to either figure).
        var clusterFirst = args.Contains("--cluster-first");
        var c0 = clusterFirst ? await MeasureThroughputAsync(Cluster, batch) : null;
        var r = await MeasureThroughputAsync(Remote, batch);
        var c = c0 ?? await MeasureThroughputAsync(Cluster, batch);
        throughput.Add((batch, r, c));
        Console.Error.WriteLine($"batch {batch}: remote {r.UnitsPerSecond:N0} units/s, {r.CpuMicrosPerUnit:F0} µs CPU/unit; {r.Times}");
        Console.Error.WriteLine($"batch {batch}: in-cluster {c.UnitsPerSecond:N0} units/s, {c.CpuMicrosPerUnit:F0} µs CPU/unit; {c.Times} (load {MachineLoad.Read()})");
    }
    var loadAfterThroughput = MachineLoad.Read();

    // 2. Latency, light load: one node waiting in a long poll, one 1-unit job at a time.
    using var device = ComputeDevice.CreateVectorCpu("latency");
    using var executor = new DeviceExecutor(device, KernelCatalog.Default);
    var remoteLatency = await MeasureLatencyAsync(Remote(0), executor, trials);
    var clusterLatency = await MeasureLatencyAsync(Cluster(0), executor, trials);
    Console.Error.WriteLine($"latency: remote p50 {Pct(remoteLatency, 0.5):F2} ms, in-cluster p50 {Pct(clusterLatency, 0.5):F2} ms");
    foreach (var (client, _) in remote) client.Dispose();

    // 3. Idle agents in a child process.
    var idle = idleAgentCount > 0 ? await IdleAgents.MeasureAsync(api, idleAgentCount, TimeSpan.FromSeconds(idleSeconds), broker, http) : null;
    var loadAtEnd = MachineLoad.Read();

    // Where a remote batch's time goes, per batch of 256, measured on this thread (no contention from the runs above).
    var costs = BatchCosts.Measure(256);

    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, server GC");
    Console.WriteLine($"load average (1/5/15 min): start {loadAtStart}, after throughput {loadAfterThroughput}, end {loadAtEnd}");
    Console.WriteLine($"config: {(quick ? "--quick, " : "")}{agentCount} agents vs {agentCount} in-cluster workers (vectorised CPU device each), {units:N0} single-element SAXPY units in {jobs} jobs, {shards} shards, in-memory storage, HTTP/1.1 on 127.0.0.1");
    Console.WriteLine();
    Console.WriteLine("| measurement | remote (node gateway, HTTP) | in-cluster (grain calls) | remote ÷ in-cluster | goal |");
    Console.WriteLine("|---|---|---|---|---|");
    foreach (var (batch, r, c) in throughput)
    {
        Console.WriteLine($"| throughput, lease batch {batch} | {r.UnitsPerSecond:N0} units/s | {c.UnitsPerSecond:N0} units/s | {r.UnitsPerSecond / c.UnitsPerSecond:F2} | ≥ 20,000 units/s remote |");
        Console.WriteLine($"| CPU time per unit (whole process: silo + workers), lease batch {batch} | {r.CpuMicrosPerUnit:F0} µs | {c.CpuMicrosPerUnit:F0} µs | {r.CpuMicrosPerUnit / c.CpuMicrosPerUnit:F2} | - |");
    }
    Console.WriteLine($"| submit → lease of a waiting node, p50 / p95 ({trials} trials) | {Pct(remoteLatency, 0.5):F2} / {Pct(remoteLatency, 0.95):F2} ms | {Pct(clusterLatency, 0.5):F2} / {Pct(clusterLatency, 0.95):F2} ms | {Pct(remoteLatency, 0.5) / Pct(clusterLatency, 0.5):F1} | p50 ≤ 5 ms remote, ≤ 1 ms in-cluster |");
    if (idle is not null)
    {
        Console.WriteLine($"| idle agents holding a long poll (waitMs 20,000), server side | {idle.Waiting:N0} of {idle.Agents:N0} waiting | - | - | ≥ 5,000 |");
        Console.WriteLine($"| server requests/s per idle agent ({idle.Window.TotalSeconds:F0} s window; {idle.Requests:N0} requests, {idle.Failed} not 2xx) | {idle.RequestsPerAgentPerSecond:F3} | - | - | ≤ 0.1 |");
        Console.WriteLine($"| server memory per connected agent: working set / GC heap | {idle.WorkingSetPerAgent / 1024.0:F1} KiB / {idle.HeapPerAgent / 1024.0:F1} KiB | - | - | - |");
        Console.WriteLine($"| logins (challenge + register, {IdleAgents.LoginParallelism} in parallel, from the child) | {idle.LoginsPerSecond:N0} /s | - | - | - |");
    }
    Console.WriteLine();
    Console.WriteLine($"Cost of one remote batch of {costs.Units} units, single thread (what the HTTP path adds to a grain call):");
    Console.WriteLine();
    Console.WriteLine("| step | µs per batch | µs per unit |");
    Console.WriteLine("|---|---|---|");
    foreach (var (step, micros) in costs.Steps) Console.WriteLine($"| {step} | {micros:N0} | {micros / costs.Units:F2} |");
}
finally
{
    await app.StopAsync();
    Directory.Delete(root, recursive: true);
}
return 0;

async Task<Throughput> MeasureThroughputAsync(Func<int, IWorkTransport> transport, int batch)
{
    var times = new TransportTimes();
    var pool = WorkerPool.Start(agentCount, i => new TimedTransport(transport(i), times), new WorkerLoopOptions { BatchSize = batch });
    try
    {
        await RunJobsAsync(Math.Min(units, 4_000)); // warm-up
        times.Reset();
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var unitsPerSecond = await RunJobsAsync(units);
        var cpuMicros = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / units;
        return new Throughput(unitsPerSecond, cpuMicros, times);
    }
    finally
    {
        await pool.StopAsync();
    }
}

async Task<double> RunJobsAsync(int total)
{
    var perJob = total / jobs;
    var x = string.Join(',', Enumerable.Range(0, perJob).Select(i => (i % 100).ToString()));
    var parameters = $$$"""{"a": 2, "x": [{{{x}}}], "y": [{{{x}}}], "unitSize": 1}""";
    var sw = Stopwatch.StartNew();
    var ids = await Task.WhenAll(Enumerable.Range(0, jobs).Select(async _ =>
    {
        var id = Guid.NewGuid().ToString("N");
        var outcome = await grains.GetGrain<IJobGrain>(id).SubmitAsync(new JobRequest { Kernel = "saxpy", ParametersJson = parameters });
        return outcome.Accepted ? id : throw new InvalidOperationException(outcome.Error);
    }));
    foreach (var id in ids)
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
    return perJob * jobs / sw.Elapsed.TotalSeconds;
}

async Task<double[]> MeasureLatencyAsync(IWorkTransport transport, DeviceExecutor executor, int count)
{
    const string oneUnit = """{"a": 2, "x": [1], "y": [1], "unitSize": 1}""";
    var samples = new List<double>();
    for (var trial = -5; trial < count; trial++) // 5 warm-up trials
    {
        var leased = LeaseTimedAsync();
        while (broker.Waiting == 0 && !leased.IsCompleted) await Task.Delay(1);
        if (leased.IsCompleted) throw new InvalidOperationException("A unit was ready before the submit: the queues are not empty.");
        var start = Stopwatch.GetTimestamp();
        var outcome = await grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString("N")).SubmitAsync(new JobRequest { Kernel = "saxpy", ParametersJson = oneUnit });
        if (!outcome.Accepted) throw new InvalidOperationException(outcome.Error);
        var (batch, at) = await leased;
        if (batch.Leases.Count != 1) throw new InvalidOperationException($"The waiting node got {batch.Leases.Count} units.");
        if (trial >= 0) samples.Add(Stopwatch.GetElapsedTime(start, at).TotalMilliseconds);
        // Report it, so the queues stay empty and the job completes.
        await transport.ReportAsync(batch, [executor.Execute(batch.Leases[0])], CancellationToken.None);
    }
    return [.. samples.Order()];

    async Task<(LeaseBatch Batch, long At)> LeaseTimedAsync()
    {
        var batch = await transport.LeaseAsync(1, TimeSpan.FromSeconds(20), CancellationToken.None);
        return (batch, Stopwatch.GetTimestamp());
    }
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

int[] ArgList(string name, int[] fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? [.. args[i + 1].Split(',').Select(int.Parse)] : fallback;
}

static double Pct(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

static int FreePort()
{
    using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    l.Start();
    return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
}

/// <summary>One throughput run: units/s, the process's CPU time per unit (load-independent), and the workers' view of the transport.</summary>
sealed record Throughput(double UnitsPerSecond, double CpuMicrosPerUnit, TransportTimes Times);
