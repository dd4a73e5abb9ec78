using DePin.Abstractions;
using DePin.Abstractions.Scheduling;
using DePin.Grains;
using DePin.Worker;
using Microsoft.Extensions.Options;

namespace DePin.Silo.Leasing;

/// <summary>
/// Long-poll leasing for every lessee of this silo: in-cluster workers and the node gateway's remote agents. A lease
/// call sweeps the queue shards once; when none has work it waits — without calling anything — until a shard says it
/// has ready units again (<see cref="IWorkAvailableObserver"/>, one subscription per silo and shard) or the wait ends.
/// </summary>
/// <remarks>
/// A notification wakes one waiter (first come, first served), not all of them: at 100,000 idle nodes a new job must
/// not cause 100,000 lease calls. A woken waiter that leased a full batch passes the wake-up on to the next waiter, so
/// a large job fans out to every waiting node in a chain of cheap calls; the chain stops when a shard runs dry. A
/// waiter that could not use the shard's units (requirements) passes it on too, up to a few times in a row.
/// </remarks>
public sealed class LeaseBroker(
    IGrainFactory grains,
    IOptions<SchedulerOptions> options,
    ILogger<LeaseBroker> logger) : BackgroundService, IWorkAvailableObserver
{
    private const int MaxMissesInChain = 3;
    private static readonly TimeSpan ResubscribeInterval = TimeSpan.FromSeconds(60);
    private readonly int _shards = options.Value.QueueShards;
    private readonly LinkedList<Waiter> _waiters = [];
    private readonly Lock _lock = new();
    private long _generation;
    private IWorkAvailableObserver? _reference;

    /// <summary>Lessees waiting for work right now.</summary>
    public int Waiting
    {
        get { lock (_lock) return _waiters.Count; }
    }

    /// <summary>
    /// Leases up to <c>request.Max</c> units from the first shard that has some, starting at the node's home shard;
    /// waits up to <paramref name="wait"/> for work when none is ready.
    /// </summary>
    public async Task<LeaseBatch> LeaseAsync(LeaseRequest request, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + wait;
        var home = ShardHash.Bucket(request.NodeId, _shards);
        Wake? hint = null;
        while (true)
        {
            var generation = Volatile.Read(ref _generation);
            var batch = hint is { } h ? await TryShardAsync(h.Shard, request) : await SweepAsync(home, request);
            if (hint is { } woken)
            {
                // Pass the wake-up on while the shard still yields full batches (or a few misses in a row).
                if (batch.Leases.Count >= request.Max) Signal(woken.Shard, 0);
                else if (batch.Leases.Count == 0 && woken.Misses + 1 < MaxMissesInChain) Signal(woken.Shard, woken.Misses + 1);
            }
            if (batch.Leases.Count > 0) return batch;
            if (hint is not null)
            {
                hint = null;
                continue; // the hinted shard was dry for us: look at all of them once more before waiting
            }

            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero) return LeaseBatch.Empty;
            var waiter = new Waiter();
            LinkedListNode<Waiter> node;
            lock (_lock)
            {
                if (Volatile.Read(ref _generation) != generation) continue; // work appeared during the sweep
                node = _waiters.AddLast(waiter);
            }
            try
            {
                hint = await waiter.Woken.Task.WaitAsync(remaining, cancellationToken);
            }
            catch (TimeoutException)
            {
                return LeaseBatch.Empty;
            }
            finally
            {
                lock (_lock)
                {
                    if (node.List is not null) _waiters.Remove(node);
                }
                // Woken but leaving (cancelled or timed out at the same instant): hand the wake-up to someone else.
                if (waiter.Woken.Task.IsCompletedSuccessfully && (cancellationToken.IsCancellationRequested || hint is null))
                    Signal(waiter.Woken.Task.Result.Shard, waiter.Woken.Task.Result.Misses);
            }
        }
    }

    /// <inheritdoc />
    Task IWorkAvailableObserver.WorkAvailableAsync(int shard)
    {
        Signal(shard, 0);
        return Task.CompletedTask;
    }

    private void Signal(int shard, int misses)
    {
        Waiter? first = null;
        lock (_lock)
        {
            Interlocked.Increment(ref _generation);
            if (_waiters.First is { } node)
            {
                first = node.Value;
                _waiters.RemoveFirst();
            }
        }
        first?.Woken.TrySetResult(new Wake(shard, misses));
    }

    private async Task<LeaseBatch> SweepAsync(int home, LeaseRequest request)
    {
        for (var i = 0; i < _shards; i++)
        {
            var batch = await TryShardAsync((home + i) % _shards, request);
            if (batch.Leases.Count > 0) return batch;
        }
        return LeaseBatch.Empty;
    }

    private async Task<LeaseBatch> TryShardAsync(int shard, LeaseRequest request)
    {
        try
        {
            var leases = await grains.GetGrain<IWorkQueueGrain>(shard).LeaseAsync(request);
            return leases.Count == 0 ? LeaseBatch.Empty : new LeaseBatch(shard, leases);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Leasing from shard {Shard} for {NodeId} failed", shard, request.NodeId);
            return LeaseBatch.Empty;
        }
    }

    /// <summary>Subscribes to every shard now and again (subscriptions lapse unless renewed, e.g. after a shard moved).</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _reference = grains.CreateObjectReference<IWorkAvailableObserver>(this);
        using var timer = new PeriodicTimer(ResubscribeInterval);
        do
        {
            await Task.WhenAll(Enumerable.Range(0, _shards).Select(async shard =>
            {
                try
                {
                    await grains.GetGrain<IWorkQueueGrain>(shard).SubscribeAsync(_reference);
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Subscribing to shard {Shard} failed; retrying in {Interval}", shard, ResubscribeInterval);
                }
            }));
            // Anyone who waited through a gap in the subscription looks again.
            for (var i = 0; i < _shards; i++) Signal(i, 0);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result));
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_reference is not null) grains.DeleteObjectReference<IWorkAvailableObserver>(_reference);
    }

    private readonly record struct Wake(int Shard, int Misses);

    private sealed class Waiter
    {
        public TaskCompletionSource<Wake> Woken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
