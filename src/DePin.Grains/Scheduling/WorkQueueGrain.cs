using DePin.Grains.Storage;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Utilities;

namespace DePin.Grains.Scheduling;

/// <summary>
/// One shard of the ready queue. Its <see cref="UnitBook"/> owns the units' leases, attempts and replica results; the
/// grain loads the book, calls it, writes the delta to <see cref="IWorkUnitStore"/>, tells subscribers about ready work
/// and hands verified units to their <see cref="IJobGrain"/> in batches.
/// </summary>
/// <remarks>
/// Reentrant: while one call awaits a job, the store or a node, leases and reports from other workers go on. The book
/// is only called between awaits (turns never run in parallel), so each call sees and leaves it consistent.
/// </remarks>
[Reentrant]
public sealed class WorkQueueGrain(
    IWorkUnitStore store,
    IOptions<SchedulerOptions> options,
    TimeProvider clock,
    ILogger<WorkQueueGrain> logger) : StoredGrain, IWorkQueueGrain
{
    private readonly SchedulerOptions _options = options.Value;
    private readonly ObserverManager<IWorkAvailableObserver> _observers = new(TimeSpan.FromMinutes(2), logger);
    private UnitBook _book = null!;
    private int Shard => (int)this.GetPrimaryKeyLong();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Lease ids only need to be unique per shard over its lifetime: start from the clock so a reactivated shard
        // never reuses the ids of a previous activation (whose leases are void).
        _book = new UnitBook(_options.MaxAttempts, clock.GetUtcNow().ToUnixTimeMilliseconds() << 16);
        _book.Load(await store.LoadAsync(Shard));
        this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions(_options.LeaseSweepInterval, _options.LeaseSweepInterval)
        {
            KeepAlive = true,
        });
    }

    async Task IWorkQueueGrain.EnqueueAsync(UnitBatch batch)
    {
        var changes = new ShardChanges();
        _book.Enqueue(batch, clock.GetUtcNow(), changes);
        // Only stored and announced: a submission must not wait for this shard to deliver other jobs' verified units
        // (reports and the sweep deliver them).
        await SaveAsync(changes);
        await NotifyWorkAvailableAsync();
    }

    Task<IReadOnlyList<WorkUnitLease>> IWorkQueueGrain.LeaseAsync(string nodeId, int max) =>
        LeaseAsync(new LeaseRequest { NodeId = nodeId, Max = max });

    Task<IReadOnlyList<WorkUnitLease>> IWorkQueueGrain.LeaseAsync(string nodeId, int max, NodeCapabilities? capabilities) =>
        LeaseAsync(new LeaseRequest { NodeId = nodeId, Max = max, Capabilities = capabilities });

    Task<IReadOnlyList<WorkUnitLease>> IWorkQueueGrain.LeaseAsync(LeaseRequest request) => LeaseAsync(request);

    private async Task<IReadOnlyList<WorkUnitLease>> LeaseAsync(LeaseRequest request)
    {
        var changes = new ShardChanges();
        var leases = _book.Lease(request, clock.GetUtcNow() + _options.LeaseDuration, changes);
        if (changes.StartedJobs.Count > 0)
        {
            await Task.WhenAll(changes.StartedJobs.Select(jobId => GrainFactory.GetGrain<IJobGrain>(jobId).MarkStartedAsync()));
        }
        return leases;
    }

    Task IWorkQueueGrain.SubscribeAsync(IWorkAvailableObserver observer)
    {
        _observers.Subscribe(observer, observer);
        return Task.CompletedTask;
    }

    Task IWorkQueueGrain.UnsubscribeAsync(IWorkAvailableObserver observer)
    {
        _observers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    Task<IReadOnlyList<long>> IWorkQueueGrain.RenewAsync(string nodeId, IReadOnlyList<long> leaseIds) =>
        Task.FromResult(_book.Renew(nodeId, leaseIds, clock.GetUtcNow() + _options.LeaseDuration));

    async Task<ReportOutcome> IWorkQueueGrain.ReportAsync(string nodeId, IReadOnlyList<UnitResult> results)
    {
        var changes = new ShardChanges();
        var outcome = _book.Report(nodeId, results, changes);
        await ApplyAsync(changes);
        return outcome;
    }

    async Task IWorkQueueGrain.CancelJobAsync(string jobId)
    {
        var changes = new ShardChanges();
        _book.Cancel(jobId, changes);
        await SaveAsync(changes);
    }

    Task<IReadOnlyList<int>> IWorkQueueGrain.HeldUnitsAsync(string jobId) => Task.FromResult(_book.HeldUnits(jobId));

    Task<int> IWorkQueueGrain.ExpireLeasesAsync() => ExpireAsync();

    Task<QueueStats> IWorkQueueGrain.GetStatsAsync() =>
        Task.FromResult(new QueueStats(Shard, _book.Ready, _book.Leased, _book.Jobs, _book.Verified, _book.Expired));

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        if (!Poisoned) await ExpireAsync();
    }

    private async Task<int> ExpireAsync()
    {
        var changes = new ShardChanges();
        var expired = _book.Expire(clock.GetUtcNow(), changes);
        if (expired > 0) logger.LogInformation("Shard {Shard}: {Count} expired leases returned to the queue", Shard, expired);
        await ApplyAsync(changes);
        return expired;
    }

    /// <summary>Persists a call's changes, then sends what they call for: ready work, verified units, failures, reputation.</summary>
    private async Task ApplyAsync(ShardChanges changes)
    {
        await SaveAsync(changes);
        await NotifyWorkAvailableAsync();
        await FlushOutboxAsync();
        if (changes.Failures.Count > 0)
        {
            await Task.WhenAll(changes.Failures.Select(f => GrainFactory.GetGrain<IJobGrain>(f.JobId).FailUnitAsync(f.Index, f.Reason)));
        }
        if (changes.NodeOutcomes.Count > 0)
        {
            await Task.WhenAll(changes.NodeOutcomes.Select(o => GrainFactory.GetGrain<INodeGrain>(o.Key).RecordOutcomesAsync(o.Value.Verified, o.Value.Rejected)));
        }
    }

    /// <summary>Tells subscribers, once per call or tick, that units became ready; a dead subscriber never fails the call.</summary>
    private async Task NotifyWorkAvailableAsync()
    {
        if (!_book.TakeReadyChanged() || _observers.Count == 0) return;
        var shard = Shard;
        try
        {
            await _observers.Notify(o => o.WorkAvailableAsync(shard));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Shard {Shard}: telling subscribers about ready work failed", shard);
        }
    }

    /// <summary>Hands verified units to their jobs; units leave the shard only once their job has them.</summary>
    private async Task FlushOutboxAsync()
    {
        if (!_book.HasOutbox) return;
        var batches = _book.TakeOutbox();
        var delivered = await Task.WhenAll(batches.Select(async b =>
        {
            try
            {
                await GrainFactory.GetGrain<IJobGrain>(b.Key).AcceptUnitsAsync(b.Value);
                return true;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Shard {Shard}: delivering {Count} units to job {JobId} failed; will retry", Shard, b.Value.Count, b.Key);
                return false;
            }
        }));

        var changes = new ShardChanges();
        for (var i = 0; i < batches.Count; i++)
        {
            var (jobId, units) = batches[i];
            if (delivered[i]) _book.Delivered(jobId, units, changes);
            else _book.ReturnToOutbox(jobId, units);
        }
        await SaveAsync(changes);
    }

    /// <summary>Writes a delta; if that fails, memory is ahead of the store, so the activation is dropped and reloads.</summary>
    private async Task SaveAsync(ShardChanges changes)
    {
        if (changes.IsEmpty) return;
        try
        {
            await store.SaveAsync(Shard, changes.ToDelta());
        }
        catch
        {
            Poison();
            throw;
        }
    }
}
