namespace DePin.Abstractions.Scheduling;

/// <summary>
/// One shard of the ready-work queue (key = shard index). Owns its units' leases, attempts and replica results,
/// so leasing and reporting travel in batches and no single grain is hot.
/// </summary>
[Alias("depin.IWorkQueueGrain")]
public interface IWorkQueueGrain : IGrainWithIntegerKey
{
    /// <summary>Adds units of a job. Idempotent per unit id.</summary>
    [Alias("Enqueue")] Task EnqueueAsync(UnitBatch batch);

    /// <summary>Leases up to <paramref name="max"/> ready units to a node; empty when none are ready.
    /// Units of jobs with requirements go only to nodes whose <paramref name="capabilities"/> meet them.</summary>
    [Alias("LeaseFor")] Task<IReadOnlyList<WorkUnitLease>> LeaseAsync(string nodeId, int max, Nodes.NodeCapabilities? capabilities);

    /// <summary>Leases per <paramref name="request"/>: at most its <c>Max</c>, never beyond its <c>MaxHeld</c> units held in this shard.</summary>
    [Alias("LeaseWith")] Task<IReadOnlyList<WorkUnitLease>> LeaseAsync(LeaseRequest request);

    /// <summary>Subscribes (or renews) an observer told when units become ready; a subscription lapses unless renewed
    /// within a few minutes.</summary>
    [Alias("Subscribe")] Task SubscribeAsync(IWorkAvailableObserver observer);

    /// <summary>Ends a subscription.</summary>
    [Alias("Unsubscribe")] Task UnsubscribeAsync(IWorkAvailableObserver observer);

    /// <summary>Leases to a node of unknown capabilities: only units of jobs without requirements.</summary>
    [Alias("Lease")] Task<IReadOnlyList<WorkUnitLease>> LeaseAsync(string nodeId, int max);

    /// <summary>Extends the deadlines of a node's live leases (heartbeat). Returns the lease ids that are still held.</summary>
    [Alias("Renew")] Task<IReadOnlyList<long>> RenewAsync(string nodeId, IReadOnlyList<long> leaseIds);

    /// <summary>Results for leased units. Late and duplicate results are ignored, never counted twice.</summary>
    [Alias("Report")] Task<ReportOutcome> ReportAsync(string nodeId, IReadOnlyList<UnitResult> results);

    /// <summary>Withdraws every unit of a job.</summary>
    [Alias("CancelJob")] Task CancelJobAsync(string jobId);
    /// <summary>Indices of the job's units this shard holds (queued, leased, or verified and not yet delivered).</summary>
    [Alias("HeldUnits")] Task<IReadOnlyList<int>> HeldUnitsAsync(string jobId);

    /// <summary>Returns expired leases to the ready queue now (also runs on a timer).</summary>
    [Alias("ExpireLeases")] Task<int> ExpireLeasesAsync();

    [Alias("GetStats")] Task<QueueStats> GetStatsAsync();
}
