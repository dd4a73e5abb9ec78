using System.Diagnostics;
using System.Runtime;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Node;
using DePin.NodeProtocol;
using DePin.Silo.Leasing;
using DePin.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using Nethereum.Signer;

namespace DePin.Gateway.Bench;

/// <summary>What the API silo paid for idle agents, each holding a long-poll lease call.</summary>
sealed record IdleAgentsResult(int Agents, int Waiting, TimeSpan Window, long Requests, long Failed, double LoginsPerSecond,
    double WorkingSetPerAgent, double HeapPerAgent)
{
    public double RequestsPerAgentPerSecond => Requests / Window.TotalSeconds / Agents;
}

/// <summary>
/// Idle agents run in a child process (this exe with <see cref="ChildFlag"/>), so that the clients' memory and sockets
/// are not counted in the server's: each is a real agent loop (<see cref="NodeGatewayClient"/>, <see cref="NodeWorker"/>,
/// <see cref="RemoteWorkTransport"/>, long polls of 20 s), all sharing one device thread since none gets work.
/// </summary>
static class IdleAgents
{
    public const string ChildFlag = "--idle-agents-child";
    public const int LoginParallelism = 64;

    /// <summary>Starts <paramref name="agents"/> idle agents, waits until the server holds all their long polls, then
    /// counts the server's requests over <paramref name="window"/> and its memory per agent.</summary>
    public static async Task<IdleAgentsResult> MeasureAsync(Uri api, int agents, TimeSpan window, LeaseBroker broker, ServerRequestCounter http)
    {
        var waitingBefore = broker.Waiting;
        Memory(); // the first full collection gives back what earlier runs left; the baseline is taken after it settles
        await Task.Delay(2000);
        var (heapBefore, workingSetBefore) = Memory();
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(IdleAgents).Assembly.Location);
        foreach (var a in new[] { ChildFlag, api.ToString(), agents.ToString() }) start.ArgumentList.Add(a);
        start.Environment["DOTNET_gcServer"] = "0"; // the client is not the figure; leave the cores to the server
        using var child = Process.Start(start) ?? throw new InvalidOperationException("The idle-agent child did not start.");
        try
        {
            var loginsPerSecond = 0.0;
            while (await child.StandardOutput.ReadLineAsync() is { } line && line != "READY")
            {
                Console.Error.WriteLine("child: " + line);
                if (line.StartsWith("LOGGED-IN ", StringComparison.Ordinal)) loginsPerSecond = agents / double.Parse(line.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
            }
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (broker.Waiting - waitingBefore < agents && DateTime.UtcNow < deadline) await Task.Delay(200);
            await Task.Delay(1000);
            var waiting = broker.Waiting - waitingBefore;
            Console.Error.WriteLine($"idle: {waiting} of {agents} agents waiting on the server (load {MachineLoad.Read()})");
            var (heapAfter, workingSetAfter) = Memory();

            var (requests0, failed0) = http.Read();
            var clock = Stopwatch.StartNew();
            await Task.Delay(window);
            var (requests1, failed1) = http.Read();
            var elapsed = clock.Elapsed;
            waiting = Math.Min(waiting, broker.Waiting - waitingBefore);

            await child.StandardInput.WriteLineAsync("stop");
            await child.StandardInput.FlushAsync();
            return new IdleAgentsResult(agents, waiting, elapsed, requests1 - requests0, failed1 - failed0, loginsPerSecond,
                (double)(workingSetAfter - workingSetBefore) / agents, (double)(heapAfter - heapBefore) / agents);
        }
        finally
        {
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await child.WaitForExitAsync(exit.Token); }
            catch (OperationCanceledException) { child.Kill(entireProcessTree: true); }
        }
    }

    /// <summary>The child: create identities, log in (bounded parallelism), hold long polls until told to stop.</summary>
    public static async Task<int> RunChildAsync(string[] args)
    {
        var i = Array.IndexOf(args, ChildFlag);
        var api = new Uri(args[i + 1]);
        var count = int.Parse(args[i + 2]);
        var root = Directory.CreateTempSubdirectory("depin-idle-agents-").FullName;
        try
        {
            var payoutKey = EthECKey.GenerateKey();
            var payout = payoutKey.GetPublicAddress();
            var clock = Stopwatch.StartNew();
            var identities = new NodeIdentity[count];
            Parallel.For(0, count, n => identities[n] = NodeIdentity.Create(Path.Combine(root, n.ToString()), payout, payoutKey, null, "bench", scryptN: 1 << 10).Identity);
            Console.WriteLine($"IDENTITIES {count} {clock.Elapsed.TotalSeconds:F1}s");

            // HTTP/1.1 long polls hold one connection each.
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2) };
            var device = new DeviceDescription("cpu0", new DeviceCapabilities("idle cpu", "VectorCpu", 1L << 34, 2, 1, 5, 1));
            var clients = identities.Select(identity => new NodeGatewayClient(api, identity, [device], handler)).ToArray();
            clock.Restart();
            await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = LoginParallelism }, async (c, ct) => await c.LoginAsync(ct));
            Console.WriteLine(FormattableString.Invariant($"LOGGED-IN {count} {clock.Elapsed.TotalSeconds:F2}"));

            using var cpu = ComputeDevice.CreateVectorCpu("idle");
            using var executor = new DeviceExecutor(cpu, KernelCatalog.Default);
            using var stop = new CancellationTokenSource();
            var options = new WorkerLoopOptions { BatchSize = 1, LongPollWait = TimeSpan.FromSeconds(20) };
            var runs = clients.Select(c => new NodeWorker(c.NodeIds[0], new RemoteWorkTransport(c.NodeIds[0], c), executor, options, NullLogger.Instance)
                .RunAsync(stop.Token)).ToArray();
            Console.WriteLine("READY");
            await Console.In.ReadLineAsync();
            await stop.CancelAsync();
            await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(20));
            foreach (var c in clients) c.Dispose();
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static (long Heap, long WorkingSet) Memory()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var self = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(false), self.WorkingSet64);
    }
}
