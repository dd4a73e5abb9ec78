using System.Diagnostics;
using System.Threading.Channels;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;

namespace DePin.Worker;

/// <summary>
/// Runs kernels for one device on a dedicated thread: GPU contexts are bound to a thread, and kernels must never run
/// inside a grain turn. Batches are queued through a channel and completed through tasks.
/// </summary>
public sealed class DeviceExecutor : IDisposable
{
    private readonly Channel<(IReadOnlyList<WorkUnitLease> Leases, TaskCompletionSource<UnitResult[]> Done)> _queue =
        Channel.CreateUnbounded<(IReadOnlyList<WorkUnitLease>, TaskCompletionSource<UnitResult[]>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;
    private readonly KernelCatalog _catalog;

    /// <summary>Starts the device thread.</summary>
    public DeviceExecutor(ComputeDevice device, KernelCatalog catalog)
    {
        Device = device;
        _catalog = catalog;
        _thread = new Thread(Run) { IsBackground = true, Name = $"depin-device-{device.Id}" };
        _thread.Start();
    }

    /// <summary>The device this executor drives.</summary>
    public ComputeDevice Device { get; }

    /// <summary>Executes a batch; one result per lease, in order. A failing unit yields an error result, not an exception.</summary>
    public Task<UnitResult[]> RunAsync(IReadOnlyList<WorkUnitLease> leases)
    {
        var done = new TaskCompletionSource<UnitResult[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((leases, done))) done.SetException(new ObjectDisposedException(nameof(DeviceExecutor)));
        return done.Task;
    }

    /// <summary>Executes one unit on the calling thread.</summary>
    public UnitResult Execute(WorkUnitLease lease)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var kernel = _catalog.Get(lease.Kernel);
            var output = kernel.Execute(Device, new KernelUnit(lease.CanonicalParameters, lease.Unit.Index, lease.UnitCount, lease.Input));
            return new UnitResult
            {
                LeaseId = lease.LeaseId,
                Unit = lease.Unit,
                Output = output,
                Digest = ResultDigest.Of(output),
                ElapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            };
        }
        catch (Exception ex)
        {
            // A DeviceFaultException has already recycled the accelerator; only this unit fails.
            return new UnitResult
            {
                LeaseId = lease.LeaseId,
                Unit = lease.Unit,
                Error = $"{ex.GetType().Name}: {ex.Message}",
                ElapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            };
        }
    }

    private void Run()
    {
        var reader = _queue.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var item))
            {
                var results = new UnitResult[item.Leases.Count];
                for (var i = 0; i < results.Length; i++) results[i] = Execute(item.Leases[i]);
                item.Done.SetResult(results);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}
