using DePin.Abstractions.Clients;
using DePin.Abstractions.Jobs;
using DePin.Compute.Catalog;
using DePin.Grains.Jobs;
using DePin.Grains.Storage;
using Microsoft.Extensions.Options;

namespace DePin.Grains.Clients;

/// <summary>
/// The jobs of one API key. Reentrant, so one key's concurrent submissions do not wait for each other's job to be
/// planned and queued: each admitted submission holds a reservation (a running job and its units, counted against the
/// quotas) from its check until its job answers, and concurrent writes share one storage write (group commit). Job
/// grains are never asked to report back: when the key looks at its limit, the grain refreshes the status of the jobs
/// it believes unfinished (at most the limit) before refusing.
/// </summary>
/// <remarks>Turns interleave only at awaits; every read-modify of the state happens between two awaits.</remarks>
[Orleans.Concurrency.Reentrant]
public sealed class ClientGrain(
    [PersistentState("client", StorageNames.Store)] IPersistentState<ClientState> state,
    IOptions<ClientQuotaOptions> quota,
    IOptions<SchedulerOptions> scheduler,
    TimeProvider clock) : Grain, IClientGrain
{
    private GroupCommit? _writer;
    private int _refreshAt = 64;
    private GroupCommit Writer => _writer ??= new GroupCommit(state, DeactivateOnIdle);

    /// <summary>How many of its most recent jobs a key can list.</summary>
    public const int RecentJobs = 1000;

    /// <summary>How many idempotency keys a key's grain remembers.</summary>
    public const int IdempotencyKeys = 1000;

    /// <summary>How long an idempotency key is remembered.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    // Submissions admitted and not yet answered by their job: job id → units reserved against the quota.
    private readonly Dictionary<string, long> _reserved = [];
    // Idempotency keys of submissions in flight: a second request with the same key meets the first one's outcome.
    private readonly Dictionary<string, Task<ClientSubmitOutcome>> _inFlight = new(StringComparer.Ordinal);

    private ClientQuotaOptions Quota => quota.Value;
    private ClientState State => state.State;

    async Task<ClientSubmitOutcome> IClientGrain.SubmitAsync(ClientSubmission submission)
    {
        if (submission.IdempotencyKey is not { } key) return await SubmitAsync(submission);
        if (_inFlight.TryGetValue(key, out var running))
        {
            var first = await running;
            if (first.Status is not ClientSubmitStatus.Accepted) return first;
            // The same key twice at once: the second one is the first one's replay (or a conflict, if its body differs).
            return await SubmitAsync(submission);
        }
        var task = SubmitAsync(submission);
        _inFlight[key] = task;
        try
        {
            return await task;
        }
        finally
        {
            _inFlight.Remove(key);
        }
    }

    /// <remarks>
    /// With an Idempotency-Key the key is stored with the job id it will create <em>before</em> the job exists, so a retry
    /// after any failure (a lost answer, a failed write) resumes that same job id: it finds the job, or creates it, and
    /// never makes a second job the client cannot know about.
    /// </remarks>
    private async Task<ClientSubmitOutcome> SubmitAsync(ClientSubmission submission)
    {
        var now = clock.GetUtcNow();
        ForgetExpiredIdempotencyKeys(now);
        string? jobId = null;
        var key = submission.IdempotencyKey;
        if (key is not null && State.Idempotency.TryGetValue(key, out var earlier))
        {
            if (earlier.RequestHash != submission.RequestHash)
                return new(ClientSubmitStatus.IdempotencyConflict, null,
                    $"Idempotency-Key '{key}' was used at {earlier.At:O} for a different request (job {earlier.JobId}); use a new key for a new job.", null);
            if (await GrainFactory.GetGrain<IJobGrain>(earlier.JobId).GetAsync() is { } job)
                return new(ClientSubmitStatus.Replayed, job, null, null);
            jobId = earlier.JobId; // an earlier attempt recorded the key but its job was never created: create it now
        }

        var request = submission.Request with { Owner = this.GetPrimaryKeyString() };
        jobId ??= JobIds.New(now);
        if (await AdmitAsync(request, jobId) is { } refusal) return refusal;

        SubmitOutcome outcome;
        try
        {
            if (key is not null && !State.Idempotency.ContainsKey(key))
            {
                State.Idempotency[key] = new IdempotentSubmission(submission.RequestHash ?? "", jobId, now);
                if (State.Idempotency.Count > IdempotencyKeys)
                    State.Idempotency.Remove(State.Idempotency.MinBy(e => e.Value.At).Key);
                await Writer.WriteAsync();
            }
            outcome = await GrainFactory.GetGrain<IJobGrain>(jobId).SubmitAsync(request);
        }
        finally
        {
            _reserved.Remove(jobId);
        }
        var replayed = false;
        if (!outcome.Accepted && outcome.Job is { } existing && existing.Owner == request.Owner)
        {
            // An earlier attempt of this very submission created the job and its answer was lost.
            outcome = new SubmitOutcome(true, null, existing);
            replayed = true;
        }
        if (!outcome.Accepted || outcome.Job is not { } view)
        {
            if (key is not null) State.Idempotency.Remove(key); // no job came of it: the key is free again (stored lazily)
            return new(ClientSubmitStatus.Refused, null, outcome.Error, null);
        }

        State.Active[jobId] = view.UnitCount;
        if (!replayed || !State.Recent.Exists(r => r.JobId == jobId))
        {
            State.Recent.Add(new JobSummary(jobId, view.Kernel, view.Status, view.UnitCount, view.SubmittedAt));
            if (State.Recent.Count > RecentJobs) State.Recent.RemoveRange(0, State.Recent.Count - RecentJobs);
        }
        await Writer.WriteAsync();
        return new(replayed ? ClientSubmitStatus.Replayed : ClientSubmitStatus.Accepted, view, null, null);
    }

    async Task<IReadOnlyList<JobSummary>> IClientGrain.ListJobsAsync(JobStatus? status, int offset, int limit)
    {
        await RefreshActiveAsync();
        return [.. Enumerable.Reverse(State.Recent)
            .Where(j => status is null || j.Status == status)
            .Skip(Math.Max(0, offset))
            .Take(Math.Clamp(limit, 0, RecentJobs))];
    }

    /// <summary>
    /// Null when the job fits the key's quotas, and then it holds a reservation under <paramref name="jobId"/> (taken in
    /// the same turn as the check, so concurrent submissions cannot both fit into the last slot); else the refusal.
    /// Writes nothing either way.
    /// </summary>
    private async Task<ClientSubmitOutcome?> AdmitAsync(JobRequest request, string jobId)
    {
        // Planning a job only to count its units costs as much as the job grain's own planning, so it happens only
        // when even the largest job the catalog allows might not fit.
        int? units = null;
        // Jobs believed unfinished are looked at again whenever their number doubles, so the list (stored with every
        // submission) stays near the number really unfinished even under a generous quota: amortised O(1) per job.
        if (State.Active.Count >= _refreshAt)
        {
            await RefreshActiveAsync();
            _refreshAt = Math.Max(64, 2 * State.Active.Count);
        }
        if (QueuedUnits + KernelLimits.Default.MaxUnits > Quota.MaxQueuedUnits)
        {
            if (JobQuote.TryCreate(request, scheduler.Value, out var error) is not { } quote)
                return new(ClientSubmitStatus.Refused, null, error, null);
            units = quote.Plan.UnitCount;
            if (units > Quota.MaxQueuedUnits)
                return new(ClientSubmitStatus.Refused, null,
                    $"the job has {units} units, more than the {Quota.MaxQueuedUnits} queued units one API key may have (Api:Quota:MaxQueuedUnits); split it", null);
        }

        if (!Fits(units))
        {
            await RefreshActiveAsync();
            if (!Fits(units))
            {
                var detail = RunningJobs >= Quota.MaxRunningJobs
                    ? $"this API key has {RunningJobs} unfinished jobs, the most it may have (Api:Quota:MaxRunningJobs = {Quota.MaxRunningJobs}); wait for some to finish or cancel them"
                    : $"this API key has {QueuedUnits} units queued and the job adds {units}, over the quota of {Quota.MaxQueuedUnits} (Api:Quota:MaxQueuedUnits); wait for some to finish or cancel them";
                return new(ClientSubmitStatus.QuotaExceeded, null, detail, Quota.RetryAfter);
            }
        }
        _reserved[jobId] = units ?? KernelLimits.Default.MaxUnits;
        return null;
    }

    private int RunningJobs => State.Active.Count + _reserved.Count;

    private long QueuedUnits => State.Active.Values.Sum(v => (long)v) + _reserved.Values.Sum();

    private bool Fits(int? units) =>
        RunningJobs < Quota.MaxRunningJobs && QueuedUnits + (units ?? KernelLimits.Default.MaxUnits) <= Quota.MaxQueuedUnits;

    /// <summary>Asks every job believed unfinished for its status: finished ones leave the quota, the list gets fresh statuses.</summary>
    private async Task RefreshActiveAsync()
    {
        if (State.Active.Count == 0) return;
        var views = await Task.WhenAll(State.Active.Keys.ToList().Select(async id => (Id: id, View: await GrainFactory.GetGrain<IJobGrain>(id).GetAsync())));
        var byId = new Dictionary<string, JobView?>();
        foreach (var (id, view) in views)
        {
            byId[id] = view;
            if (view is null || view.Status.IsTerminal()) State.Active.Remove(id);
            else State.Active[id] = view.UnitCount - view.UnitsCompleted;
        }
        for (var i = 0; i < State.Recent.Count; i++)
        {
            if (byId.TryGetValue(State.Recent[i].JobId, out var view) && view is not null)
                State.Recent[i] = State.Recent[i] with { Status = view.Status };
        }
    }

    private void ForgetExpiredIdempotencyKeys(DateTimeOffset now)
    {
        foreach (var (key, entry) in State.Idempotency.Where(e => now - e.Value.At > IdempotencyWindow).ToList()) State.Idempotency.Remove(key);
    }
}
