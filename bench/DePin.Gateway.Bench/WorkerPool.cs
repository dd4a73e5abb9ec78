using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Worker;
using Microsoft.Extensions.Logging.Abstractions;

namespace DePin.Gateway.Bench;

/// <summary>N worker loops, each on its own vectorised CPU device thread, over the given transports; stopped by draining.</summary>
sealed class WorkerPool
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(ComputeDevice Device, DeviceExecutor Executor)> _devices = [];
    private readonly List<Task> _runs = [];

    private WorkerPool()
    {
    }

    public static WorkerPool Start(int count, Func<int, IWorkTransport> transport, WorkerLoopOptions options)
    {
        var pool = new WorkerPool();
        for (var i = 0; i < count; i++)
        {
            var device = ComputeDevice.CreateVectorCpu($"cpu{i}");
            var executor = new DeviceExecutor(device, KernelCatalog.Default);
            pool._devices.Add((device, executor));
            pool._runs.Add(new NodeWorker($"worker{i}", transport(i), executor, options, NullLogger.Instance).RunAsync(pool._stop.Token));
        }
        return pool;
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_runs);
        foreach (var (device, executor) in _devices)
        {
            executor.Dispose();
            device.Dispose();
        }
        _stop.Dispose();
    }
}
