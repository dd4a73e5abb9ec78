using DePin.Abstractions.Jobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DePin.Grains.Jobs;

/// <summary>
/// One shard of the job list (rows in <see cref="IJobIndexStore"/>, one write per row). Written on job state
/// transitions only (a handful per job), never per unit. Its sweep (a reminder, so it survives the loss of any silo)
/// revives unfinished jobs so that they reconcile, and deletes finished jobs whose retention is over: the list holds the
/// jobs of the retention window, not of the network's whole life.
/// </summary>
/// <remarks>
/// Reentrant: a sweep calls jobs while those jobs may be calling the directory (a job publishing its status waits for
/// the directory, the sweep waits for the job): a non-reentrant directory would deadlock the pair. Rows change only
/// between awaits, and one sweep runs at a time.
/// </remarks>
[Orleans.Concurrency.Reentrant]
public sealed class JobDirectoryGrain(
    IJobIndexStore store,
    IOptions<SchedulerOptions> options,
    TimeProvider clock,
    ILogger<JobDirectoryGrain> logger) : Grain, IJobDirectoryGrain, IRemindable
{
    private const string Sweep = "sweep";
    private readonly Dictionary<string, JobSummary> _jobs = new(StringComparer.Ordinal);
    private bool _sweepRegistered;
    private bool _sweeping;
    private int Shard => (int)this.GetPrimaryKeyLong();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var row in await store.LoadAsync(Shard)) _jobs[row.JobId] = row;
    }

    async Task IJobDirectoryGrain.UpsertAsync(JobSummary summary)
    {
        await store.UpsertAsync(Shard, summary);
        _jobs[summary.JobId] = summary;
        if (!_sweepRegistered)
        {
            await this.RegisterOrUpdateReminder(Sweep, options.Value.JobSweepInterval, options.Value.JobSweepInterval);
            _sweepRegistered = true;
        }
    }

    Task<IReadOnlyList<JobSummary>> IJobDirectoryGrain.ListAsync(JobStatus? status, int offset, int limit) =>
        Task.FromResult<IReadOnlyList<JobSummary>>([.. _jobs.Values
            .Where(j => status is null || j.Status == status)
            .OrderByDescending(j => j.SubmittedAt)
            .ThenBy(j => j.JobId, StringComparer.Ordinal)
            .Skip(Math.Max(0, offset))
            .Take(Math.Clamp(limit, 0, 101_000))]);

    Task IJobDirectoryGrain.SweepAsync() => SweepAsync();

    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        _sweepRegistered = true;
        return SweepAsync();
    }

    private async Task SweepAsync()
    {
        if (_sweeping) return;
        _sweeping = true;
        try
        {
            await SweepOnceAsync();
        }
        finally
        {
            _sweeping = false;
        }
    }

    private async Task SweepOnceAsync()
    {
        var retention = options.Value.JobRetention;
        var now = clock.GetUtcNow();
        var gone = new List<string>();
        var stale = new List<JobSummary>();
        foreach (var chunk in _jobs.Values.ToList().Chunk(64))
        {
            await Task.WhenAll(chunk.Select(async summary =>
            {
                try
                {
                    var job = GrainFactory.GetGrain<IJobGrain>(summary.JobId);
                    if (!summary.Status.IsTerminal())
                    {
                        // Also repairs a row whose update was lost (the job's own publish is best effort).
                        if (await job.ReconcileAsync() is not { } view) lock (gone) gone.Add(summary.JobId);
                        else if (view.Status != summary.Status) lock (stale) stale.Add(summary with { Status = view.Status, FinishedAt = view.FinishedAt });
                    }
                    else if (summary.FinishedAt is not { } finished || now - finished >= retention)
                    {
                        if (await job.ExpireAsync()) lock (gone) gone.Add(summary.JobId);
                    }
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Job directory: sweeping job {JobId} failed; next sweep retries", summary.JobId);
                }
            }));
        }
        foreach (var row in stale)
        {
            // Only if no fresher row arrived from the job meanwhile.
            if (!_jobs.TryGetValue(row.JobId, out var current) || current.Status.IsTerminal()) continue;
            await store.UpsertAsync(Shard, row);
            if (_jobs.TryGetValue(row.JobId, out current) && !current.Status.IsTerminal()) _jobs[row.JobId] = row;
        }
        if (gone.Count == 0) return;
        await store.RemoveAsync(Shard, gone);
        foreach (var jobId in gone) _jobs.Remove(jobId);
    }
}

/// <summary>Reads across the job directory shards.</summary>
public static class JobDirectory
{
    /// <summary>Newest first: each shard returns its first offset+limit matches, and the merge pages them.</summary>
    public static async Task<IReadOnlyList<JobSummary>> ListAsync(IGrainFactory grains, JobStatus? status, int offset, int limit)
    {
        var window = Math.Clamp(offset, 0, 100_000) + Math.Clamp(limit, 0, 1000);
        var shards = await Task.WhenAll(Enumerable.Range(0, DePin.Abstractions.DirectoryShards.Count)
            .Select(s => grains.GetGrain<IJobDirectoryGrain>(s).ListAsync(status, 0, window)));
        return [.. shards.SelectMany(s => s)
            .OrderByDescending(j => j.SubmittedAt)
            .ThenBy(j => j.JobId, StringComparer.Ordinal)
            .Skip(Math.Max(0, offset))
            .Take(Math.Clamp(limit, 0, 1000))];
    }

    /// <summary>Sweeps every shard now (what their reminders do every <c>Scheduler:JobSweepInterval</c>).</summary>
    public static Task SweepAsync(IGrainFactory grains) =>
        Task.WhenAll(Enumerable.Range(0, DePin.Abstractions.DirectoryShards.Count).Select(s => grains.GetGrain<IJobDirectoryGrain>(s).SweepAsync()));
}
