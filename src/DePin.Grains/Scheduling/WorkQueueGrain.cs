using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Utilities;

namespace DePin.Grains.Scheduling;

/// <summary>
/// One shard of the ready queue. It owns its units' leases, attempts and replica results; verified units are handed to
/// their <see cref="IJobGrain"/> in batches. Changes are written to <see cref="IWorkUnitStore"/> as deltas per call.
/// </summary>
/// <remarks>
/// <para>Nodes are untrusted. A result or error counts only with the lease it answers: held by the reporting node, on that
/// unit, live or lapsed while the unit is pending, and once per lease. Any other report changes nothing. A node's error
/// on a unit counts once and the unit never goes back to that node; an output that is not of the shape its kernel
/// declares is that node's error and never meets the other replicas.</para>
/// <para>Reentrant: while one call awaits a job, the store or a node, leases and reports from other workers go on. Every
/// method changes the in-memory state only between awaits (turns never run in parallel), and code after an await
/// looks units up again instead of trusting what it saw before.</para>
/// </remarks>
[Reentrant]
public sealed class WorkQueueGrain(
    IWorkUnitStore store,
    IOptions<SchedulerOptions> options,
    TimeProvider clock,
    ILogger<WorkQueueGrain> logger) : Grain, IWorkQueueGrain
{
    private readonly SchedulerOptions _options = options.Value;
    private readonly Dictionary<string, QueuedJob> _jobs = [];
    private readonly Dictionary<WorkUnitId, QueuedUnit> _units = [];
    private readonly Dictionary<long, ActiveLease> _leases = [];
    private readonly PriorityQueue<WorkUnitId, (int Priority, long Seq)> _ready = new();
    private readonly Dictionary<string, List<VerifiedUnit>> _outbox = [];
    /// <summary>Live leases per node (leased and not yet reported, expired or withdrawn), for <see cref="LeaseRequest.MaxHeld"/>.</summary>
    private readonly Dictionary<string, int> _held = [];
    private readonly ObserverManager<IWorkAvailableObserver> _observers = new(TimeSpan.FromMinutes(2), logger);
    /// <summary>Units became ready since subscribers were last told.</summary>
    private bool _readyChanged;
    private long _seq;
    private long _nextLeaseId;
    private long _verified;
    private long _expired;
    private int Shard => (int)this.GetPrimaryKeyLong();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Lease ids only need to be unique per shard over its lifetime: start from the clock so a reactivated shard
        // never reuses the ids of a previous activation.
        _nextLeaseId = clock.GetUtcNow().ToUnixTimeMilliseconds() << 16;
        var snapshot = await store.LoadAsync(Shard);
        foreach (var job in snapshot.Jobs) _jobs[job.JobId] = new QueuedJob(job);
        foreach (var stored in snapshot.Units)
        {
            if (!_jobs.TryGetValue(stored.Id.JobId, out var job)) continue;
            var unit = new QueuedUnit(stored.Id, stored.Input, stored.EnqueuedAt, job)
            {
                Attempts = stored.Attempts,
            };
            unit.Replicas.AddRange(stored.Replicas);
            if (stored.FailedNodes is not null) unit.FailedNodes.UnionWith(stored.FailedNodes);
            unit.Agreement = LargestAgreement(unit).Count;
            _units[unit.Id] = unit;
            job.Pending++;
            MakeReady(unit);
        }

        this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions(_options.LeaseSweepInterval, _options.LeaseSweepInterval)
        {
            KeepAlive = true,
        });
    }

    async Task IWorkQueueGrain.EnqueueAsync(UnitBatch batch)
    {
        var delta = new DeltaBuilder();
        if (!_jobs.TryGetValue(batch.JobId, out var job))
        {
            job = new QueuedJob(new ShardJob(batch.JobId, batch.Kernel, batch.CanonicalParameters, batch.UnitCount,
                batch.Redundancy, batch.Priority, batch.PricePerUnitMicroCredits, batch.Requirements));
            _jobs[batch.JobId] = job;
            delta.UpsertJobs.Add(job.Definition);
        }

        var now = clock.GetUtcNow();
        foreach (var input in batch.Units)
        {
            var id = new WorkUnitId(batch.JobId, input.Index);
            if (_units.ContainsKey(id) || job.Done.Contains(input.Index)) continue;
            var unit = new QueuedUnit(id, input.Input, now, job);
            _units[id] = unit;
            job.Pending++;
            MakeReady(unit);
            _readyChanged = true;
            delta.UpsertUnits.Add(unit.ToStored());
        }

        await SaveAsync(delta);
        await NotifyWorkAvailableAsync();
    }

    Task<IReadOnlyList<WorkUnitLease>> IWorkQueueGrain.LeaseAsync(string nodeId, int max) =>
        LeaseAsync(new LeaseRequest { NodeId = nodeId, Max = max });

    Task<IReadOnlyList<WorkUnitLease>> IWorkQueueGrain.LeaseAsync(string nodeId, int max, NodeCapabilities? capabilities) =>
        LeaseAsync(new LeaseRequest { NodeId = nodeId, Max = max, Capabilities = capabilities });

    Task<IReadOnlyList<WorkUnitLease>> IWorkQueueGrain.LeaseAsync(LeaseRequest request) => LeaseAsync(request);

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

    private async Task<IReadOnlyList<WorkUnitLease>> LeaseAsync(LeaseRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (nodeId, capabilities) = (request.NodeId, request.Capabilities);
        var max = request.MaxHeld > 0 ? Math.Min(request.Max, request.MaxHeld - HeldBy(nodeId)) : request.Max;
        if (max <= 0 || _ready.Count == 0) return [];
        // A node that cannot run the units at the head of the queue looks a bounded distance past them.
        var skipBudget = 4 * max;
        var now = clock.GetUtcNow();
        var deadline = now + _options.LeaseDuration;
        var leases = new List<WorkUnitLease>(Math.Min(max, _ready.Count));
        List<QueuedUnit>? skipped = null;
        HashSet<string>? started = null;

        while (leases.Count < max && _ready.TryDequeue(out var id, out _))
        {
            if (!_units.TryGetValue(id, out var unit) || !unit.InReady) continue;
            unit.InReady = false;
            var requirements = unit.Job.Definition.Requirements;
            if (unit.HasWorked(nodeId) || (requirements is not null && !requirements.AreMetBy(capabilities)))
            {
                // Replicas must come from distinct nodes, and requirements must be met: leave it for someone else.
                (skipped ??= []).Add(unit);
                if (--skipBudget <= 0) break;
                continue;
            }

            var lease = new ActiveLease(++_nextLeaseId, id, nodeId, deadline);
            AddLease(unit, lease);
            leases.Add(new WorkUnitLease
            {
                LeaseId = lease.LeaseId,
                Unit = id,
                Kernel = unit.Job.Definition.Kernel,
                CanonicalParameters = unit.Job.Definition.CanonicalParameters,
                UnitCount = unit.Job.Definition.UnitCount,
                Input = unit.Input,
                Deadline = deadline,
                EnqueuedAt = unit.EnqueuedAt,
                Attempt = unit.Attempts + 1,
            });
            if (unit.NeedsMoreLeases) MakeReady(unit);
            if (!unit.Job.StartNotified)
            {
                unit.Job.StartNotified = true;
                (started ??= []).Add(id.JobId);
            }
        }

        if (skipped is not null)
        {
            foreach (var unit in skipped) MakeReady(unit);
        }

        if (started is not null)
        {
            await Task.WhenAll(started.Select(jobId => GrainFactory.GetGrain<IJobGrain>(jobId).MarkStartedAsync()));
        }

        return leases;
    }

    Task<IReadOnlyList<long>> IWorkQueueGrain.RenewAsync(string nodeId, IReadOnlyList<long> leaseIds)
    {
        var deadline = clock.GetUtcNow() + _options.LeaseDuration;
        var held = new List<long>(leaseIds.Count);
        foreach (var leaseId in leaseIds)
        {
            if (_leases.TryGetValue(leaseId, out var lease) && lease.NodeId == nodeId)
            {
                lease.Deadline = deadline;
                held.Add(leaseId);
            }
        }
        return Task.FromResult<IReadOnlyList<long>>(held);
    }

    async Task<ReportOutcome> IWorkQueueGrain.ReportAsync(string nodeId, IReadOnlyList<UnitResult> results)
    {
        int accepted = 0, verified = 0, ignored = 0, failed = 0;
        var delta = new DeltaBuilder();
        var outcomes = new Dictionary<string, (int Verified, int Rejected)>();
        List<(string JobId, int Index, string Reason)>? failures = null;

        foreach (var result in results)
        {
            if (!_units.TryGetValue(result.Unit, out var unit) || unit.Verified
                || FindLease(unit, nodeId, result.LeaseId) is not { } answered
                || unit.HasReplicaFrom(nodeId) || unit.FailedNodes.Contains(nodeId))
            {
                ignored++; // done, cancelled, a duplicate, or not this node's lease on this unit: changes nothing
                continue;
            }

            // The node has answered for this unit: none of its other leases on it (live or lapsed) can count again.
            foreach (var own in unit.Leases.FindAll(l => l.NodeId == nodeId)) DropLease(own);
            unit.Lapsed.RemoveAll(l => l.NodeId == nodeId);

            var error = result.Error ?? OutputError(unit, result);
            if (error is not null)
            {
                failed++;
                unit.FailedNodes.Add(nodeId);
                // A lapsed lease already cost the unit an attempt when it expired.
                if (answered.Live) unit.Attempts++;
                if (unit.Attempts >= _options.MaxAttempts)
                {
                    (failures ??= []).Add((unit.Id.JobId, unit.Id.Index, $"unit {unit.Id.Index} failed {unit.Attempts} times: {error}"));
                    RemoveUnit(unit, delta);
                }
                else
                {
                    ReadyAgain(unit);
                    delta.UpsertUnits.Add(unit.ToStored());
                }
                continue;
            }

            accepted++;
            unit.Replicas.Add(new ReplicaResult(nodeId, result.Digest!, result.Output!));
            var agreement = LargestAgreement(unit);
            unit.Agreement = agreement.Count;
            if (agreement.Count >= unit.Job.Definition.Redundancy)
            {
                var quorum = agreement;
                verified++;
                var verifiedUnit = new VerifiedUnit
                {
                    Index = unit.Id.Index,
                    Output = quorum[0].Output,
                    Digest = quorum[0].Digest,
                    Nodes = [.. quorum.Select(r => r.NodeId)],
                };
                foreach (var replica in unit.Replicas)
                {
                    var agreed = quorum.Contains(replica);
                    outcomes.TryGetValue(replica.NodeId, out var o);
                    outcomes[replica.NodeId] = agreed ? (o.Verified + 1, o.Rejected) : (o.Verified, o.Rejected + 1);
                }
                unit.Verified = true;
                DropAllLeases(unit);
                // Not written to the store: the unit leaves it once its job has the output. Should this shard die
                // before that, the unit reloads as pending and is simply computed again (the job accepts it once).
                AddToOutbox(verifiedUnit, unit.Id.JobId);
            }
            else if (unit.Replicas.Count >= unit.Job.Definition.Redundancy + 2)
            {
                (failures ??= []).Add((unit.Id.JobId, unit.Id.Index, $"unit {unit.Id.Index}: {unit.Replicas.Count} replicas disagree"));
                RemoveUnit(unit, delta);
            }
            else
            {
                ReadyAgain(unit);
                delta.UpsertUnits.Add(unit.ToStored());
            }
        }

        await SaveAsync(delta);
        await NotifyWorkAvailableAsync();
        await FlushOutboxAsync();
        if (failures is not null)
        {
            await Task.WhenAll(failures.Select(f => GrainFactory.GetGrain<IJobGrain>(f.JobId).FailUnitAsync(f.Index, f.Reason)));
        }
        if (outcomes.Count > 0)
        {
            await Task.WhenAll(outcomes.Select(o => GrainFactory.GetGrain<INodeGrain>(o.Key).RecordOutcomesAsync(o.Value.Verified, o.Value.Rejected)));
        }

        return new ReportOutcome(accepted, verified, ignored, failed);
    }

    /// <summary>The lease of <paramref name="nodeId"/> on <paramref name="unit"/> with this id: live, or lapsed while the unit is pending.</summary>
    private (ActiveLease Lease, bool Live)? FindLease(QueuedUnit unit, string nodeId, long leaseId)
    {
        if (_leases.TryGetValue(leaseId, out var live) && live.NodeId == nodeId && live.Unit == unit.Id) return (live, true);
        var lapsed = unit.Lapsed.Find(l => l.LeaseId == leaseId && l.NodeId == nodeId);
        return lapsed is null ? null : (lapsed, false);
    }

    /// <summary>Why a reported output cannot count (no output, digest mismatch, not the shape its kernel declares); null when it can.</summary>
    private static string? OutputError(QueuedUnit unit, UnitResult result)
    {
        if (result.Output is null || result.Digest is null || UnitDigest.Of(result.Output) != result.Digest)
        {
            return "result digest does not match its output";
        }
        var job = unit.Job.Definition;
        if (KernelCatalog.Default.TryGet(job.Kernel, out var kernel)
            && !kernel.IsWellFormedOutput(new KernelUnit(job.CanonicalParameters, unit.Id.Index, job.UnitCount, unit.Input), result.Output))
        {
            return $"output of {result.Output.Length} bytes is not the shape {job.Kernel} declares for unit {unit.Id.Index}";
        }
        return null;
    }

    async Task IWorkQueueGrain.CancelJobAsync(string jobId)
    {
        if (!_jobs.Remove(jobId, out var job)) return;
        var delta = new DeltaBuilder();
        delta.RemoveJobs.Add(jobId);
        foreach (var unit in _units.Values.Where(u => u.Job == job).ToList())
        {
            RemoveUnit(unit, delta);
        }
        _outbox.Remove(jobId);
        await SaveAsync(delta);
    }

    async Task<int> IWorkQueueGrain.ExpireLeasesAsync() => await ExpireAsync();

    Task<QueueStats> IWorkQueueGrain.GetStatsAsync() =>
        Task.FromResult(new QueueStats(Shard, _units.Values.Count(u => u.InReady), _leases.Count, _jobs.Count, _verified, _expired));

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        await ExpireAsync();
        if (_outbox.Count > 0) await FlushOutboxAsync();
    }

    private async Task<int> ExpireAsync()
    {
        if (_leases.Count == 0) return 0;
        var now = clock.GetUtcNow();
        var delta = new DeltaBuilder();
        List<(string JobId, int Index, string Reason)>? failures = null;
        var expired = 0;
        foreach (var lease in _leases.Values.Where(l => l.Deadline <= now).ToList())
        {
            _units.TryGetValue(lease.Unit, out var unit);
            DropLease(lease);
            if (unit is null) continue;
            // Its node may still report it late; that answer counts while the unit is pending.
            unit.Lapsed.Add(lease);
            unit.Attempts++;
            expired++;
            if (unit.Attempts >= _options.MaxAttempts)
            {
                (failures ??= []).Add((unit.Id.JobId, unit.Id.Index, $"unit {unit.Id.Index}: lease expired {unit.Attempts} times"));
                RemoveUnit(unit, delta);
            }
            else
            {
                ReadyAgain(unit);
                delta.UpsertUnits.Add(unit.ToStored());
            }
        }
        _expired += expired;
        if (expired > 0) logger.LogInformation("Shard {Shard}: {Count} expired leases returned to the queue", Shard, expired);
        await SaveAsync(delta);
        await NotifyWorkAvailableAsync();
        if (failures is not null)
        {
            await Task.WhenAll(failures.Select(f => GrainFactory.GetGrain<IJobGrain>(f.JobId).FailUnitAsync(f.Index, f.Reason)));
        }
        return expired;
    }

    /// <summary>Hands verified units to their jobs; units leave the shard only once their job has them.</summary>
    private async Task FlushOutboxAsync()
    {
        if (_outbox.Count == 0) return;
        var batches = _outbox.ToList();
        _outbox.Clear();
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

        var delta = new DeltaBuilder();
        for (var i = 0; i < batches.Count; i++)
        {
            var (jobId, units) = batches[i];
            if (!delivered[i])
            {
                foreach (var unit in units) AddToOutbox(unit, jobId);
                continue;
            }
            foreach (var v in units)
            {
                if (_units.TryGetValue(new WorkUnitId(jobId, v.Index), out var unit))
                {
                    _verified++;
                    RemoveUnit(unit, delta);
                }
            }
        }
        await SaveAsync(delta);
    }

    private void AddToOutbox(VerifiedUnit unit, string jobId)
    {
        if (!_outbox.TryGetValue(jobId, out var list)) _outbox[jobId] = list = [];
        list.Add(unit);
    }

    /// <summary>The largest group of replicas whose outputs agree (same digest, or equal under the kernel's comparison).</summary>
    private static List<ReplicaResult> LargestAgreement(QueuedUnit unit)
    {
        if (unit.Replicas.Count <= 1) return [.. unit.Replicas];
        KernelCatalog.Default.TryGet(unit.Job.Definition.Kernel, out var kernel);
        List<ReplicaResult> best = [];
        foreach (var candidate in unit.Replicas)
        {
            var agreeing = unit.Replicas.FindAll(r => r.Digest == candidate.Digest
                || (kernel is not null && kernel.OutputsAgree(r.Output, candidate.Output)));
            if (agreeing.Count > best.Count) best = agreeing;
        }
        return best;
    }

    private void RemoveUnit(QueuedUnit unit, DeltaBuilder delta)
    {
        _units.Remove(unit.Id);
        DropAllLeases(unit);
        unit.InReady = false;
        unit.Job.Done.Add(unit.Id.Index);
        delta.RemoveUnits.Add(unit.Id);
        if (--unit.Job.Pending <= 0 && _jobs.Remove(unit.Id.JobId))
        {
            delta.RemoveJobs.Add(unit.Id.JobId);
        }
    }

    private void MakeReady(QueuedUnit unit)
    {
        if (unit.InReady) return;
        unit.InReady = true;
        _ready.Enqueue(unit.Id, (-unit.Job.Definition.Priority, ++_seq));
    }

    /// <summary>A unit that lost a lease or a replica: ready again if it needs another lease, and subscribers are told.</summary>
    private void ReadyAgain(QueuedUnit unit)
    {
        if (!unit.NeedsMoreLeases || unit.InReady) return;
        MakeReady(unit);
        _readyChanged = true;
    }

    private void AddLease(QueuedUnit unit, ActiveLease lease)
    {
        _leases[lease.LeaseId] = lease;
        unit.Leases.Add(lease);
        _held[lease.NodeId] = HeldBy(lease.NodeId) + 1;
    }

    /// <summary>Ends a live lease (reported, expired, withdrawn): the one place a node's held count goes down.</summary>
    private void DropLease(ActiveLease lease)
    {
        if (!_leases.Remove(lease.LeaseId)) return;
        if (_units.TryGetValue(lease.Unit, out var unit)) unit.Leases.Remove(lease);
        var held = HeldBy(lease.NodeId) - 1;
        if (held > 0) _held[lease.NodeId] = held;
        else _held.Remove(lease.NodeId);
    }

    /// <summary>The unit is done with (verified, failed, cancelled): no lease on it, live or lapsed, counts any more.</summary>
    private void DropAllLeases(QueuedUnit unit)
    {
        foreach (var lease in unit.Leases.ToList()) DropLease(lease);
        unit.Leases.Clear();
        unit.Lapsed.Clear();
    }

    private int HeldBy(string nodeId) => _held.GetValueOrDefault(nodeId);

    /// <summary>Tells subscribers, once per call or tick, that units became ready; a dead subscriber never fails the call.</summary>
    private async Task NotifyWorkAvailableAsync()
    {
        if (!_readyChanged) return;
        _readyChanged = false;
        if (_observers.Count == 0 || _ready.Count == 0) return;
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

    /// <summary>Writes a delta; if that fails, memory is ahead of the store, so the activation is dropped and reloads.</summary>
    private async Task SaveAsync(DeltaBuilder delta)
    {
        if (delta.IsEmpty) return;
        try
        {
            await store.SaveAsync(Shard, delta.Build());
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }

    private sealed class QueuedJob(ShardJob definition)
    {
        public ShardJob Definition { get; } = definition;
        public int Pending { get; set; }
        public bool StartNotified { get; set; }
        /// <summary>Indices that left this shard (verified, failed): a re-enqueue of them is ignored.</summary>
        public HashSet<int> Done { get; } = [];
    }

    private sealed class QueuedUnit(WorkUnitId id, byte[] input, DateTimeOffset enqueuedAt, QueuedJob job)
    {
        public WorkUnitId Id { get; } = id;
        public byte[] Input { get; } = input;
        public DateTimeOffset EnqueuedAt { get; } = enqueuedAt;
        public QueuedJob Job { get; } = job;
        public int Attempts { get; set; }
        public bool InReady { get; set; }
        public bool Verified { get; set; }
        public List<ActiveLease> Leases { get; } = [];
        /// <summary>Expired leases whose late answer still counts while the unit is pending (one per expiry, so bounded by MaxAttempts).</summary>
        public List<ActiveLease> Lapsed { get; } = [];
        public List<ReplicaResult> Replicas { get; } = [];
        /// <summary>Nodes that failed this unit: their error counted once, and they never lease it again.</summary>
        public HashSet<string> FailedNodes { get; } = [];

        /// <summary>Size of the largest group of agreeing replicas so far.</summary>
        public int Agreement { get; set; }
        /// <summary>Disagreeing replicas do not count toward the quorum, so they call for more leases.</summary>
        public bool NeedsMoreLeases => !Verified && Leases.Count + Agreement < Job.Definition.Redundancy;
        public bool HasReplicaFrom(string nodeId) => Replicas.Exists(r => r.NodeId == nodeId);
        public bool HasWorked(string nodeId) => HasReplicaFrom(nodeId) || FailedNodes.Contains(nodeId) || Leases.Exists(l => l.NodeId == nodeId);
        public StoredUnit ToStored() => new(Id, Input, Attempts, EnqueuedAt, [.. Replicas], FailedNodes.Count == 0 ? null : [.. FailedNodes]);
    }

    private sealed class ActiveLease(long leaseId, WorkUnitId unit, string nodeId, DateTimeOffset deadline)
    {
        public long LeaseId { get; } = leaseId;
        public WorkUnitId Unit { get; } = unit;
        public string NodeId { get; } = nodeId;
        public DateTimeOffset Deadline { get; set; } = deadline;
    }

    private sealed class DeltaBuilder
    {
        public List<ShardJob> UpsertJobs { get; } = [];
        public List<string> RemoveJobs { get; } = [];
        public List<StoredUnit> UpsertUnits { get; } = [];
        public List<WorkUnitId> RemoveUnits { get; } = [];
        public bool IsEmpty => UpsertJobs.Count == 0 && RemoveJobs.Count == 0 && UpsertUnits.Count == 0 && RemoveUnits.Count == 0;
        public ShardDelta Build() => new(UpsertJobs, RemoveJobs, UpsertUnits, RemoveUnits);
    }
}
