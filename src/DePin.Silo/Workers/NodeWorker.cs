using System.Collections.Concurrent;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using DePin.Grains;
using Microsoft.Extensions.Options;

namespace DePin.Silo.Workers;

/// <summary>
/// The pull loop of one node (one device): lease a batch from a queue shard, run it on the device thread, report the
/// results to the same shard. The next batch is leased while the current one runs, so the device rarely waits on the
/// scheduler. Shards are visited round-robin from a home shard, so workers spread over shards.
/// </summary>
public sealed class NodeWorker(
    string nodeId,
    NodeCapabilities capabilities,
    DeviceExecutor executor,
    IGrainFactory grains,
    IOptions<SchedulerOptions> scheduler,
    WorkerOptions options,
    ILogger logger)
{
    private readonly ConcurrentDictionary<(int Shard, long FirstLease), (int Shard, IReadOnlyList<long> LeaseIds)> _inFlight = new();
    private const int MaxReportsInFlight = 4;
    private readonly SemaphoreSlim _reportSlots = new(MaxReportsInFlight, MaxReportsInFlight);
    private readonly int _shards = scheduler.Value.QueueShards;
    private int _nextShard = DePin.Abstractions.ShardHash.Bucket(nodeId, scheduler.Value.QueueShards);

    /// <summary>Node id (<c>{NodeName}/{deviceId}</c>).</summary>
    public string NodeId => nodeId;

    /// <summary>Units this worker has reported.</summary>
    public long UnitsReported => Interlocked.Read(ref _unitsReported);
    private long _unitsReported;

    /// <summary>Runs until <paramref name="stoppingToken"/> fires; in-flight results are reported before returning.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var heartbeat = new CancellationTokenSource();
        var heartbeats = HeartbeatLoopAsync(heartbeat.Token);
        try
        {
            var idle = TimeSpan.FromMilliseconds(1);
            var next = LeaseNextAsync();
            while (true)
            {
                var (shard, leases) = await next;
                if (stoppingToken.IsCancellationRequested)
                {
                    // Draining: run what we hold, report it, lease nothing more.
                    if (leases.Count > 0) await RunAndReportAsync(shard, leases);
                    break;
                }
                if (leases.Count == 0)
                {
                    try { await Task.Delay(idle, stoppingToken); } catch (OperationCanceledException) { }
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, options.MaxIdleDelay.Ticks));
                    next = stoppingToken.IsCancellationRequested ? Task.FromResult((shard, (IReadOnlyList<WorkUnitLease>)[])) : LeaseNextAsync();
                    continue;
                }
                idle = TimeSpan.FromMilliseconds(1);
                next = LeaseNextAsync();
                // Reports overlap with the next batch's execution, up to a bound.
                await _reportSlots.WaitAsync(CancellationToken.None);
                _ = RunAndReportAsync(shard, leases).ContinueWith(_ => _reportSlots.Release(), TaskScheduler.Default);
            }
            // Wait for every outstanding report before leaving (drain).
            for (var i = 0; i < MaxReportsInFlight; i++) await _reportSlots.WaitAsync(CancellationToken.None);
        }
        finally
        {
            await heartbeat.CancelAsync();
            await heartbeats;
        }
    }

    private async Task RunAndReportAsync(int shard, IReadOnlyList<WorkUnitLease> leases)
    {
        var batch = (shard, leases[0].LeaseId);
        try
        {
            SchedulerMetrics.RecordLeased(leases);
            var results = await executor.RunAsync(leases);
            await grains.GetGrain<IWorkQueueGrain>(shard).ReportAsync(nodeId, results);
            Interlocked.Add(ref _unitsReported, results.Length);
            SchedulerMetrics.RecordReported(results);
        }
        catch (Exception ex)
        {
            // The leases expire and the units go back to the queue; nothing is lost.
            logger.LogWarning(ex, "Node {NodeId}: batch of {Count} units from shard {Shard} was not reported", nodeId, leases.Count, shard);
        }
        finally
        {
            _inFlight.TryRemove(batch, out _);
        }
    }

    private async Task<(int Shard, IReadOnlyList<WorkUnitLease> Leases)> LeaseNextAsync()
    {
        for (var i = 0; i < _shards; i++)
        {
            var shard = _nextShard;
            _nextShard = (_nextShard + 1) % _shards;
            try
            {
                var leases = await grains.GetGrain<IWorkQueueGrain>(shard).LeaseAsync(nodeId, options.BatchSize, capabilities);
                if (leases.Count > 0)
                {
                    // Held from now on: the heartbeat renews prefetched batches too, not only the running one.
                    _inFlight[(shard, leases[0].LeaseId)] = (shard, [.. leases.Select(l => l.LeaseId)]);
                    // Stay on a shard that has work: fewer empty polls, larger batches.
                    _nextShard = shard;
                    return (shard, leases);
                }
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Node {NodeId}: leasing from shard {Shard} failed", nodeId, shard);
            }
        }
        return (_nextShard, []);
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
                    await grains.GetGrain<INodeGrain>(nodeId).HeartbeatAsync();
                    // Long units keep their leases alive; a dead node stops renewing and its units return to the queue.
                    foreach (var group in _inFlight.Values.GroupBy(f => f.Shard))
                    {
                        await grains.GetGrain<IWorkQueueGrain>(group.Key).RenewAsync(nodeId, [.. group.SelectMany(f => f.LeaseIds)]);
                    }
                }
                catch (Exception ex)
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
