using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;

namespace DePin.Grains.Scheduling;

/// <summary>
/// The unit book of one queue shard, as plain code a test drives directly: its jobs and units, the ready queue, leases
/// (live and lapsed), replicas, attempts, the nodes that failed each unit, per-node held counts and the outbox of
/// verified units. Nothing here awaits or sends: <see cref="WorkQueueGrain"/> calls it, persists the
/// <see cref="ShardChanges"/> it fills and sends their messages.
/// </summary>
/// <remarks>
/// Nodes are untrusted. A result or error counts only with the lease it answers: held by the reporting node, on that
/// unit, live or lapsed while the unit is pending, and once per lease. Any other report changes nothing. A node's error
/// on a unit counts once and the unit never goes back to that node; an output that is not of the shape its kernel
/// declares is that node's error and never meets the other replicas.
/// </remarks>
/// <param name="maxAttempts">Distinct failures (errors, expiries) after which a unit fails its job.</param>
/// <param name="firstLeaseId">Lease ids continue after this one; unique per shard over its lifetime.</param>
public sealed class UnitBook(int maxAttempts, long firstLeaseId)
{
    private readonly Dictionary<string, QueuedJob> _jobs = [];
    private readonly Dictionary<WorkUnitId, QueuedUnit> _units = [];
    private readonly Dictionary<long, ActiveLease> _leases = [];
    private readonly PriorityQueue<WorkUnitId, (int Priority, long Seq)> _ready = new();
    private readonly Dictionary<string, List<VerifiedUnit>> _outbox = [];
    /// <summary>Live leases per node (leased and not yet reported, expired or withdrawn), for <see cref="LeaseRequest.MaxHeld"/>.</summary>
    private readonly Dictionary<string, int> _held = [];
    private bool _readyChanged;
    private long _seq;
    private long _nextLeaseId = firstLeaseId;

    /// <summary>Units waiting in the ready queue.</summary>
    public int Ready => _units.Values.Count(u => u.InReady);

    /// <summary>Live leases.</summary>
    public int Leased => _leases.Count;

    /// <summary>Jobs with units in this book.</summary>
    public int Jobs => _jobs.Count;

    /// <summary>Units verified and delivered to their jobs.</summary>
    public long Verified { get; private set; }

    /// <summary>Leases that expired.</summary>
    public long Expired { get; private set; }

    /// <summary>True when verified units wait for delivery.</summary>
    public bool HasOutbox => _outbox.Count > 0;

    /// <summary>Live leases of <paramref name="nodeId"/>.</summary>
    public int HeldBy(string nodeId) => _held.GetValueOrDefault(nodeId);

    /// <summary>Fills the book from the store; every pending unit is ready (leases are not stored).</summary>
    public void Load(ShardSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        foreach (var job in snapshot.Jobs) _jobs[job.JobId] = new QueuedJob(job);
        foreach (var stored in snapshot.Units)
        {
            if (!_jobs.TryGetValue(stored.Id.JobId, out var job)) continue;
            var unit = new QueuedUnit(stored.Id, stored.Input, stored.EnqueuedAt, job) { Attempts = stored.Attempts };
            unit.Replicas.AddRange(stored.Replicas);
            if (stored.FailedNodes is not null) unit.Failed.UnionWith(stored.FailedNodes);
            unit.Agreement = LargestAgreement(unit).Count;
            _units[unit.Id] = unit;
            job.Pending++;
            MakeReady(unit);
        }
    }

    /// <summary>Adds a job's units; idempotent per unit.</summary>
    public void Enqueue(UnitBatch batch, DateTimeOffset now, ShardChanges changes)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(changes);
        if (!_jobs.TryGetValue(batch.JobId, out var job))
        {
            job = new QueuedJob(new ShardJob(batch.JobId, batch.Kernel, batch.CanonicalParameters, batch.UnitCount,
                batch.Redundancy, batch.Priority, batch.PricePerUnitMicroCredits, batch.Requirements));
            _jobs[batch.JobId] = job;
            changes.UpsertJobs.Add(job.Definition);
        }

        foreach (var input in batch.Units)
        {
            var id = new WorkUnitId(batch.JobId, input.Index);
            if (_units.ContainsKey(id) || (job.Done.Contains(input.Index) && !batch.Reconciled)) continue;
            job.Done.Remove(input.Index);
            var unit = new QueuedUnit(id, input.Input, now, job);
            _units[id] = unit;
            job.Pending++;
            MakeReady(unit);
            _readyChanged = true;
            changes.UpsertUnits.Add(unit.ToStored());
        }
    }

    /// <summary>
    /// Leases up to <see cref="LeaseRequest.Max"/> ready units to a node, never beyond its <see cref="LeaseRequest.MaxHeld"/>,
    /// never a unit it already worked on or failed, only units whose requirements its capabilities meet.
    /// </summary>
    public IReadOnlyList<WorkUnitLease> Lease(LeaseRequest request, DateTimeOffset deadline, ShardChanges changes)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(changes);
        var (nodeId, capabilities) = (request.NodeId, request.Capabilities);
        var max = request.MaxHeld > 0 ? Math.Min(request.Max, request.MaxHeld - HeldBy(nodeId)) : request.Max;
        if (max <= 0 || _ready.Count == 0) return [];
        // A node that cannot run the units at the head of the queue looks a bounded distance past them.
        var skipBudget = 4 * max;
        var leases = new List<WorkUnitLease>(Math.Min(max, _ready.Count));
        List<QueuedUnit>? skipped = null;

        while (leases.Count < max && _ready.TryDequeue(out var id, out _))
        {
            if (!_units.TryGetValue(id, out var unit) || !unit.InReady) continue;
            unit.InReady = false;
            if (unit.HasWorked(nodeId) || !CanRun(unit, capabilities))
            {
                // Replicas must come from distinct nodes, and requirements must be met: leave it for someone else.
                (skipped ??= []).Add(unit);
                if (--skipBudget <= 0) break;
                continue;
            }

            var lease = new ActiveLease(++_nextLeaseId, id, nodeId, deadline);
            AddLease(unit, lease);
            var job = unit.Job.Definition;
            leases.Add(new WorkUnitLease
            {
                LeaseId = lease.LeaseId,
                Unit = id,
                Kernel = job.Kernel,
                CanonicalParameters = job.CanonicalParameters,
                UnitCount = job.UnitCount,
                Input = unit.Input,
                Deadline = deadline,
                EnqueuedAt = unit.EnqueuedAt,
                Attempt = unit.Attempts + 1,
            });
            if (unit.NeedsMoreLeases) MakeReady(unit);
            if (!unit.Job.StartNotified)
            {
                unit.Job.StartNotified = true;
                changes.StartedJobs.Add(id.JobId);
            }
        }

        if (skipped is not null)
        {
            foreach (var unit in skipped) MakeReady(unit);
        }
        return leases;
    }

    /// <summary>Extends the node's live leases among <paramref name="leaseIds"/>; returns those it still holds.</summary>
    public IReadOnlyList<long> Renew(string nodeId, IReadOnlyList<long> leaseIds, DateTimeOffset deadline)
    {
        ArgumentNullException.ThrowIfNull(leaseIds);
        var held = new List<long>(leaseIds.Count);
        foreach (var leaseId in leaseIds)
        {
            if (_leases.TryGetValue(leaseId, out var lease) && lease.NodeId == nodeId)
            {
                lease.Deadline = deadline;
                held.Add(leaseId);
            }
        }
        return held;
    }

    /// <summary>Takes a node's results and errors for its leases; anything else is ignored and changes nothing.</summary>
    public ReportOutcome Report(string nodeId, IReadOnlyList<UnitResult> results, ShardChanges changes)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(changes);
        int accepted = 0, verified = 0, ignored = 0, failed = 0;
        foreach (var result in results)
        {
            if (!_units.TryGetValue(result.Unit, out var unit) || unit.Verified
                || FindLease(unit, nodeId, result.LeaseId) is not { } answered
                || unit.HasReplicaFrom(nodeId) || unit.HasFailed(nodeId))
            {
                ignored++; // done, cancelled, a duplicate, or not this node's lease on this unit
                continue;
            }

            // The node has answered for this unit: none of its other leases on it (live or lapsed) can count again.
            for (var i = unit.Leases.Count - 1; i >= 0; i--)
            {
                if (unit.Leases[i].NodeId == nodeId) DropLease(unit.Leases[i]);
            }
            unit.ForgetLapsed(nodeId);

            var error = result.Error ?? OutputError(unit, result);
            if (error is not null)
            {
                failed++;
                unit.Failed.Add(nodeId);
                // A lapsed lease already cost the unit an attempt when it expired.
                if (answered.Live) unit.Attempts++;
                if (unit.Attempts >= maxAttempts)
                {
                    changes.Failures.Add(new UnitFailure(unit.Id.JobId, unit.Id.Index, $"unit {unit.Id.Index} failed {unit.Attempts} times: {error}"));
                    RemoveUnit(unit, changes);
                }
                else
                {
                    ReadyAgain(unit);
                    changes.UpsertUnits.Add(unit.ToStored());
                }
                continue;
            }

            accepted++;
            unit.Replicas.Add(new ReplicaResult(nodeId, result.Digest!, result.Output!));
            var quorum = LargestAgreement(unit);
            unit.Agreement = quorum.Count;
            if (quorum.Count >= unit.Job.Definition.Redundancy)
            {
                verified++;
                Verify(unit, quorum, changes);
            }
            else if (unit.Replicas.Count >= unit.Job.Definition.Redundancy + 2)
            {
                changes.Failures.Add(new UnitFailure(unit.Id.JobId, unit.Id.Index, $"unit {unit.Id.Index}: {unit.Replicas.Count} replicas disagree"));
                RemoveUnit(unit, changes);
            }
            else
            {
                ReadyAgain(unit);
                changes.UpsertUnits.Add(unit.ToStored());
            }
        }
        return new ReportOutcome(accepted, verified, ignored, failed);
    }

    /// <summary>Indices of the job's units in this book (ready, leased, or verified and waiting for delivery).</summary>
    public IReadOnlyList<int> HeldUnits(string jobId) =>
        _jobs.TryGetValue(jobId, out var job) ? [.. _units.Values.Where(u => u.Job == job).Select(u => u.Id.Index)] : [];

    /// <summary>Withdraws every unit of a job, and its undelivered verified units.</summary>
    public void Cancel(string jobId, ShardChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (!_jobs.Remove(jobId, out var job)) return;
        changes.RemoveJobs.Add(jobId);
        foreach (var unit in _units.Values.Where(u => u.Job == job).ToList()) RemoveUnit(unit, changes);
        _outbox.Remove(jobId);
    }

    /// <summary>Returns leases past their deadline to the ready queue (each costs its unit an attempt); returns how many.</summary>
    public int Expire(DateTimeOffset now, ShardChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var expired = 0;
        foreach (var lease in _leases.Values.Where(l => l.Deadline <= now).ToList())
        {
            _units.TryGetValue(lease.Unit, out var unit);
            DropLease(lease);
            if (unit is null) continue;
            // Its node may still report it late; that answer counts while the unit is pending.
            unit.AddLapsed(lease);
            unit.Attempts++;
            expired++;
            if (unit.Attempts >= maxAttempts)
            {
                changes.Failures.Add(new UnitFailure(unit.Id.JobId, unit.Id.Index, $"unit {unit.Id.Index}: lease expired {unit.Attempts} times"));
                RemoveUnit(unit, changes);
            }
            else
            {
                ReadyAgain(unit);
                changes.UpsertUnits.Add(unit.ToStored());
            }
        }
        Expired += expired;
        return expired;
    }

    /// <summary>Takes the verified units waiting for delivery, per job; give back those not delivered.</summary>
    public IReadOnlyList<KeyValuePair<string, List<VerifiedUnit>>> TakeOutbox()
    {
        var batches = _outbox.ToList();
        _outbox.Clear();
        return batches;
    }

    /// <summary>Verified units whose delivery failed wait for the next try.</summary>
    public void ReturnToOutbox(string jobId, IEnumerable<VerifiedUnit> units)
    {
        ArgumentNullException.ThrowIfNull(units);
        foreach (var unit in units) AddToOutbox(jobId, unit);
    }

    /// <summary>The job has these units: they leave the shard.</summary>
    public void Delivered(string jobId, IEnumerable<VerifiedUnit> units, ShardChanges changes)
    {
        ArgumentNullException.ThrowIfNull(units);
        ArgumentNullException.ThrowIfNull(changes);
        foreach (var v in units)
        {
            if (_units.TryGetValue(new WorkUnitId(jobId, v.Index), out var unit))
            {
                Verified++;
                RemoveUnit(unit, changes);
            }
        }
    }

    /// <summary>True once after units became ready (enqueued, lease expired, failed attempt, disagreement), so
    /// subscribers are told at most once per call.</summary>
    public bool TakeReadyChanged()
    {
        var changed = _readyChanged && _ready.Count > 0;
        _readyChanged = false;
        return changed;
    }

    private static bool CanRun(QueuedUnit unit, NodeCapabilities? capabilities) =>
        unit.Job.Definition.Requirements is not { } requirements || requirements.AreMetBy(capabilities);

    private void Verify(QueuedUnit unit, List<ReplicaResult> quorum, ShardChanges changes)
    {
        foreach (var replica in unit.Replicas)
        {
            var agreed = quorum.Contains(replica);
            changes.NodeOutcomes.TryGetValue(replica.NodeId, out var o);
            changes.NodeOutcomes[replica.NodeId] = agreed ? (o.Verified + 1, o.Rejected) : (o.Verified, o.Rejected + 1);
        }
        unit.Verified = true;
        DropAllLeases(unit);
        // Not written to the store: the unit leaves it once its job has the output. Should the shard die before
        // that, the unit reloads as pending and is simply computed again (the job accepts it once).
        AddToOutbox(unit.Id.JobId, new VerifiedUnit
        {
            Index = unit.Id.Index,
            Output = quorum[0].Output,
            Digest = quorum[0].Digest,
            Nodes = [.. quorum.Select(r => r.NodeId)],
        });
    }

    /// <summary>The lease of <paramref name="nodeId"/> on <paramref name="unit"/> with this id: live, or lapsed while the unit is pending.</summary>
    private (ActiveLease Lease, bool Live)? FindLease(QueuedUnit unit, string nodeId, long leaseId)
    {
        if (_leases.TryGetValue(leaseId, out var live) && live.NodeId == nodeId && live.Unit == unit.Id) return (live, true);
        var lapsed = unit.FindLapsed(leaseId, nodeId);
        return lapsed is null ? null : (lapsed, false);
    }

    /// <summary>Why a reported output cannot count (no output, digest mismatch, not the shape its kernel declares); null when it can.</summary>
    private static string? OutputError(QueuedUnit unit, UnitResult result)
    {
        if (result.Output is null || result.Digest is null || ResultDigest.Of(result.Output) != result.Digest)
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

    private void AddToOutbox(string jobId, VerifiedUnit unit)
    {
        if (!_outbox.TryGetValue(jobId, out var list)) _outbox[jobId] = list = [];
        list.Add(unit);
    }

    private void RemoveUnit(QueuedUnit unit, ShardChanges changes)
    {
        _units.Remove(unit.Id);
        DropAllLeases(unit);
        unit.InReady = false;
        unit.Job.Done.Add(unit.Id.Index);
        changes.RemoveUnits.Add(unit.Id);
        if (--unit.Job.Pending <= 0 && _jobs.Remove(unit.Id.JobId))
        {
            changes.RemoveJobs.Add(unit.Id.JobId);
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
        unit.ClearLapsed();
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
        // Lapsed leases and failed nodes are rare: allocated on first use, not for each of a shard's units.
        private List<ActiveLease>? _lapsed;
        private HashSet<string>? _failed;
        public void AddLapsed(ActiveLease lease) => (_lapsed ??= []).Add(lease);
        public ActiveLease? FindLapsed(long leaseId, string nodeId) => _lapsed?.Find(l => l.LeaseId == leaseId && l.NodeId == nodeId);
        public void ForgetLapsed(string nodeId) => _lapsed?.RemoveAll(l => l.NodeId == nodeId);
        public void ClearLapsed() => _lapsed?.Clear();
        public List<ReplicaResult> Replicas { get; } = [];
        /// <summary>Nodes that failed this unit: their error counted once, and they never lease it again.</summary>
        public HashSet<string> Failed => _failed ??= [];
        public bool HasFailed(string nodeId) => _failed?.Contains(nodeId) == true;

        /// <summary>Size of the largest group of agreeing replicas so far.</summary>
        public int Agreement { get; set; }
        /// <summary>Disagreeing replicas do not count toward the quorum, so they call for more leases.</summary>
        public bool NeedsMoreLeases => !Verified && Leases.Count + Agreement < Job.Definition.Redundancy;
        public bool HasReplicaFrom(string nodeId) => Replicas.Exists(r => r.NodeId == nodeId);
        public bool HasWorked(string nodeId) => HasReplicaFrom(nodeId) || HasFailed(nodeId) || Leases.Exists(l => l.NodeId == nodeId);
        public StoredUnit ToStored() => new(Id, Input, Attempts, EnqueuedAt, [.. Replicas], _failed is { Count: > 0 } ? [.. _failed] : null);
    }

    private sealed class ActiveLease(long leaseId, WorkUnitId unit, string nodeId, DateTimeOffset deadline)
    {
        public long LeaseId { get; } = leaseId;
        public WorkUnitId Unit { get; } = unit;
        public string NodeId { get; } = nodeId;
        public DateTimeOffset Deadline { get; set; } = deadline;
    }
}
