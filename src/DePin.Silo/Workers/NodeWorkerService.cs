using DePin.Abstractions;
using DePin.Abstractions.Nodes;
using DePin.Compute;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Grains;
using DePin.Silo.Hosting;
using DePin.Silo.Leasing;
using DePin.Worker;
using Microsoft.Extensions.Options;

namespace DePin.Silo.Workers;

/// <summary>
/// The GPU role: one <see cref="NodeWorker"/> per accelerator of this silo. Registers each device as a node (with its
/// probed capabilities and the operator's payout address) once the silo is up, then pulls work until shutdown, when
/// it drains: stops leasing, finishes and reports what it holds.
/// </summary>
public sealed class NodeWorkerService(
    IGrainFactory grains,
    LeaseBroker broker,
    IOptions<WorkerOptions> workerOptions,
    IOptions<SiloOptions> siloOptions,
    ILocalSiloDetails silo,
    ILogger<NodeWorkerService> logger) : BackgroundService
{
    private readonly List<NodeWorker> _workers = [];

    /// <summary>The running workers (for tests and diagnostics).</summary>
    public IReadOnlyList<NodeWorker> Workers => _workers;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var options = workerOptions.Value;
        var devices = DeviceInventory.Discover(new ComputeOptions { CpuBackend = options.CpuBackend, EnableGpus = options.EnableGpus });
        PayoutAddress.TryNormalize(options.OperatorAddress, out var operatorAddress);
        var nodeName = options.NodeName ?? $"{Environment.MachineName}-{siloOptions.Value.SiloPort}";
        var executors = new List<DeviceExecutor>();
        try
        {
            var runs = new List<Task>();
            foreach (var device in devices)
            {
                var executor = new DeviceExecutor(device, KernelCatalog.Default);
                executors.Add(executor);
                var nodeId = $"{nodeName}/{device.Id}";
                var benchmark = options.ProbeOnStart ? DeviceProbe.Run(device, TimeSpan.FromMilliseconds(300)) : null;
                var capabilities = new NodeCapabilities
                {
                    DeviceName = device.Name,
                    DeviceKind = device.Kind.ToString(),
                    MemoryBytes = device.MemoryBytes,
                    ComputeUnits = device.ComputeUnits,
                    WarpSize = device.WarpSize,
                    SgemmGflops = benchmark?.SgemmGflops ?? 0,
                    CopyGBps = benchmark?.CopyGBps ?? 0,
                };
                await grains.GetGrain<INodeGrain>(nodeId).RegisterAsync(new NodeRegistration
                {
                    OperatorAddress = operatorAddress!,
                    SiloAddress = silo.SiloAddress.ToString(),
                    Capabilities = capabilities,
                });
                logger.LogInformation("Node {NodeId} registered: {Device} ({Kind}), operator {Operator}, {Gflops:F1} GFLOP/s",
                    nodeId, device.Name, device.Kind, operatorAddress, benchmark?.SgemmGflops ?? 0);
                var transport = new ClusterWorkTransport(nodeId, capabilities, broker, grains, logger);
                var worker = new NodeWorker(nodeId, transport, executor, options.ToLoopOptions(), logger);
                _workers.Add(worker);
                runs.Add(worker.RunAsync(stoppingToken));
            }
            await Task.WhenAll(runs);
            logger.LogInformation("Workers drained: {Units} units reported", _workers.Sum(w => w.UnitsReported));
        }
        finally
        {
            foreach (var executor in executors) executor.Dispose();
            foreach (var device in devices) device.Dispose();
        }
    }
}
