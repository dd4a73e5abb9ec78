using System.Collections.Concurrent;
using DePin.Abstractions.Scheduling;
using Microsoft.Extensions.Logging;

namespace DePin.Worker;

/// <summary>
/// The pull loop of one node (one device): lease a batch, run it on the device thread, report the results. The next
/// batch is leased while the current one runs, so the device rarely waits on the scheduler; an idle worker's lease
/// call waits on the server (long poll) instead of polling. The same loop serves GPU silos and community node agents;
/// only the <see cref="IWorkTransport"/> differs.
/// </summary>
public sealed class NodeWorker(
    string nodeId,
    IWorkTransport transport,
    DeviceExecutor executor,
    WorkerLoopOptions options,
    ILogger logger)
{
    private readonly ConcurrentDictionary<LeaseBatch, byte> _held = new(ReferenceEqualityComparer.Instance);
    private const int MaxReportsInFlight = 4;
    private readonly SemaphoreSlim _reportSlots = new(MaxReportsInFlight, MaxReportsInFlight);

    /// <summary>Node id (<c>{NodeName}/{deviceId}</c>).</summary>
    public string NodeId => nodeId;

    /// <summary>Units this worker has reported.</summary>
    public long UnitsReported => Interlocked.Read(ref _unitsReported);
    private long _unitsReported;

    /// <summary>Runs until <paramref name="stoppingToken"/> fires; what it holds is run and reported before returning (drain).</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var heartbeat = new CancellationTokenSource();
        var heartbeats = HeartbeatLoopAsync(heartbeat.Token);
        try
        {
            var next = LeaseNextAsync(stoppingToken);
            while (true)
            {
                var batch = await next;
                if (stoppingToken.IsCancellationRequested)
                {
                    // Draining: run what we hold, report it, lease nothing more.
                    if (batch.Leases.Count > 0) await RunAndReportAsync(batch);
                    break;
                }
                next = LeaseNextAsync(stoppingToken);
                if (batch.Leases.Count == 0) continue;
                // Reports overlap with the next batch's execution, up to a bound.
                await _reportSlots.WaitAsync(CancellationToken.None);
                _ = RunAndReportAsync(batch).ContinueWith(_ => _reportSlots.Release(), TaskScheduler.Default);
            }
            for (var i = 0; i < MaxReportsInFlight; i++) await _reportSlots.WaitAsync(CancellationToken.None);
        }
        finally
        {
            await heartbeat.CancelAsync();
            await heartbeats;
        }
    }

    private async Task RunAndReportAsync(LeaseBatch batch)
    {
        try
        {
            SchedulerMetrics.RecordLeased(batch.Leases);
            var results = await executor.RunAsync(batch.Leases);
            await transport.ReportAsync(batch, results, CancellationToken.None);
            Interlocked.Add(ref _unitsReported, results.Length);
            SchedulerMetrics.RecordReported(results);
        }
        catch (Exception ex)
        {
            // The leases expire and the units go back to the queue; nothing is lost.
            logger.LogWarning(ex, "Node {NodeId}: batch of {Count} units was not reported", nodeId, batch.Leases.Count);
        }
        finally
        {
            _held.TryRemove(batch, out _);
        }
    }

    private async Task<LeaseBatch> LeaseNextAsync(CancellationToken stoppingToken)
    {
        if (stoppingToken.IsCancellationRequested) return LeaseBatch.Empty;
        try
        {
            var batch = await transport.LeaseAsync(options.BatchSize, options.LongPollWait, stoppingToken);
            // Held from now on: the heartbeat renews prefetched batches too, not only the running one.
            if (batch.Leases.Count > 0) _held[batch] = 0;
            return batch;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return LeaseBatch.Empty;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Node {NodeId}: leasing failed; retrying in {Delay}", nodeId, options.RetryDelay);
            try { await Task.Delay(options.RetryDelay, stoppingToken); } catch (OperationCanceledException) { }
            return LeaseBatch.Empty;
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    // Long units keep their leases alive; a dead node stops renewing and its units return to the queue.
                    // Each heartbeat gets one interval: a slow scheduler delays the next one, never stacks them up.
                    using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    call.CancelAfter(options.HeartbeatInterval);
                    await transport.HeartbeatAsync([.. _held.Keys], call.Token);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Node {NodeId}: heartbeat failed", nodeId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
