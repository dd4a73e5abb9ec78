using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.NodeProtocol;
using DePin.Worker;
using Microsoft.Extensions.Logging;

namespace DePin.Node;

/// <summary>Settings of a node agent run.</summary>
public sealed record NodeAgentOptions
{
    /// <summary>The API silo's base URL.</summary>
    public required Uri Api { get; init; }
    /// <summary>Backend of the CPU device when the machine has no GPU.</summary>
    public CpuBackend CpuBackend { get; init; } = CpuBackend.Vectorized;
    /// <summary>Use CUDA / OpenCL GPUs when present.</summary>
    public bool EnableGpus { get; init; } = true;
    /// <summary>Measure each device at start (its claims; the network does not take them on trust).</summary>
    public bool ProbeOnStart { get; init; } = true;
    /// <summary>The worker loop's settings.</summary>
    public WorkerLoopOptions Loop { get; init; } = new();
}

/// <summary>
/// A community node agent: finds the machine's devices, logs in to the node gateway with the node key, and runs the
/// shared worker loop (<see cref="NodeWorker"/>) on each device over HTTP until stopped, then drains (finishes and
/// reports what it holds).
/// </summary>
public sealed class NodeAgent(NodeIdentity identity, NodeAgentOptions options, ILogger logger)
{
    /// <summary>Called once the agent has logged in, with its node ids.</summary>
    public event Action<IReadOnlyList<string>>? Started;

    /// <summary>Runs until <paramref name="stoppingToken"/> fires.</summary>
    public async Task<long> RunAsync(CancellationToken stoppingToken)
    {
        var devices = DeviceInventory.Discover(new ComputeOptions { CpuBackend = options.CpuBackend, EnableGpus = options.EnableGpus });
        var executors = new List<DeviceExecutor>();
        try
        {
            var described = devices.Select(d =>
            {
                var probe = options.ProbeOnStart ? DeviceProbe.Run(d, TimeSpan.FromMilliseconds(300)) : null;
                return new DeviceDescription(d.Id, new DeviceCapabilities(d.Name, d.Kind.ToString(), d.MemoryBytes, d.ComputeUnits, d.WarpSize,
                    probe?.SgemmGflops ?? 0, probe?.CopyGBps ?? 0));
            }).ToList();
            using var client = new NodeGatewayClient(options.Api, identity, described);
            var session = await client.LoginAsync(stoppingToken);
            logger.LogInformation("Node {Address} logged in to {Api}: {Nodes}, earning for {Payout}", identity.Address, options.Api,
                string.Join(", ", session.NodeIds), identity.Info.PayoutAddress);
            Started?.Invoke(session.NodeIds);

            var workers = devices.Select((device, i) =>
            {
                var executor = new DeviceExecutor(device, KernelCatalog.Default);
                executors.Add(executor);
                var nodeId = $"{identity.Address}/{device.Id}";
                return new NodeWorker(nodeId, new RemoteWorkTransport(nodeId, client), executor, options.Loop, logger);
            }).ToList();
            await Task.WhenAll(workers.Select(w => w.RunAsync(stoppingToken)));
            var reported = workers.Sum(w => w.UnitsReported);
            logger.LogInformation("Node {Address} drained: {Units} units reported", identity.Address, reported);
            return reported;
        }
        finally
        {
            foreach (var executor in executors) executor.Dispose();
            foreach (var device in devices) device.Dispose();
        }
    }
}
