using System.Text.Json;
using DePin.Abstractions;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Rewards;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;
using DePin.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DePin.Grains.Jobs;

/// <summary>
/// A client's job. Validates and splits it through the kernel catalog, spreads its units over the queue shards, keeps
/// verified outputs (first output per unit index wins, in the <see cref="IJobOutputStore"/>) and is the single authority
/// that turns a verified unit into credits. See docs/architecture.md, "Exactly-once payment".
/// </summary>
/// <remarks>
/// Every step is idempotent and ordered so that a crash after any of them is safe:
/// <list type="number">
/// <item>a batch's outputs are stored with their payees (first write per index wins) before the shard is acknowledged;</item>
/// <item>credits are derived from what is stored, sent, and resent until acknowledged (accounts skip duplicates);</item>
/// <item>the write that ends the job stores the result and the credits not yet acknowledged, before outputs are deleted;</item>
/// <item>once storage records every credit acknowledged, accounts are told to drop their de-duplication state for the job.</item>
/// </list>
/// A timer (and a reminder, should the job go away) drives the outbox until empty; a reconciler queues again units that
/// are nowhere. A failed write drops the activation, so memory never holds what storage does not.
/// </remarks>
// Finished jobs are read a few times (status, result) and then rarely: idle ones leave memory after two minutes,
// not Orleans' default fifteen, so a silo running many small jobs holds the recent ones, not all of them.
[CollectionAgeLimit(Minutes = 2)]
public sealed class JobGrain(
    [PersistentState("job", StorageNames.Store)] IPersistentState<JobState> state,
    IJobOutputStore outputStore,
    IOptions<SchedulerOptions> options,
    TimeProvider clock,
    ILogger<JobGrain> logger) : StoredGrain, IJobGrain, IRemindable
{
    private const string CreditReminder = "credits";
    private readonly SchedulerOptions _options = options.Value;
    private readonly Dictionary<string, string?> _operators = [];
    // Running job: stored outputs by index, and the indices whose credits some account has not acknowledged yet.
    private StoredOutput?[] _outputs = [];
    private readonly SortedSet<int> _owed = [];
    private int _stored;
    private DateTimeOffset _lastProgress;
    private IGrainTimer? _retry;
    private IGrainTimer? _reconcile;
    // The credit reminder surely exists (registered or fired in this activation) / may exist (left by an earlier one).
    private bool _reminderRegistered;
    private bool _reminderMayExist;
    private bool _summaryStale;
    private JobView? View => state.State.View;
    private bool Ended => View is { } v && v.Status.IsTerminal();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _lastProgress = clock.GetUtcNow();
        if (View is not { } view) return;
        if (!view.Status.IsTerminal())
        {
            _outputs = await outputStore.LoadAsync(view.JobId, view.UnitCount);
            for (var i = 0; i < _outputs.Length; i++)
            {
                if (_outputs[i] is null) continue;
                _stored++;
                _owed.Add(i); // not known to be acknowledged: resent (accounts skip what they already have)
            }
            state.State.View = view with
            {
                UnitsCompleted = _stored,
                Status = _stored > 0 && view.Status == JobStatus.Submitted ? JobStatus.Running : view.Status,
            };
            StartReconcileTimer();
            // Finish what a previous activation may have left half done: queueing units.
            if (!state.State.Enqueued) await EnqueueAsync();
        }
        _reminderMayExist = HasOutbox;
        if (HasOutbox) await DrainCreditsAsync();
    }

    /// <summary>The credit reminder: a job that went away with credits owed comes back to pay them.</summary>
    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        _reminderRegistered = _reminderMayExist = true;
        await DrainCreditsAsync();
    }

    async Task<SubmitOutcome> IJobGrain.SubmitAsync(JobRequest request)
    {
        if (View is not null) return new SubmitOutcome(false, $"job '{this.GetPrimaryKeyString()}' already exists", View);
        if (JobQuote.TryCreate(request, _options, out var error) is not { } quote) return Refuse(error!);
        var plan = quote.Plan;

        state.State = new JobState
        {
            View = new JobView
            {
                JobId = this.GetPrimaryKeyString(),
                Kernel = quote.Kernel.Name,
                Status = JobStatus.Submitted,
                UnitCount = plan.UnitCount,
                Redundancy = request.Redundancy,
                Priority = request.Priority,
                PricePerUnitMicroCredits = quote.PricePerUnitMicroCredits,
                PriceMicroCredits = quote.PriceMicroCredits,
                Requirements = quote.EffectiveRequirements(request.Requirements),
                EstimatedGflop = quote.EstimatedGflop,
                SubmittedAt = clock.GetUtcNow(),
                Owner = request.Owner,
            },
            CanonicalParameters = plan.CanonicalParameters,
            UnitInputs = [.. plan.UnitInputs],
        };
        _outputs = new StoredOutput?[plan.UnitCount];
        // Queued first, then stored once (without the inputs, which the shards now own). A crash in between leaves
        // units of a job that does not exist: their results are dropped (AcceptUnits finds no job) and the client,
        // which got no answer, submits again.
        try
        {
            await EnqueueAsync();
        }
        catch
        {
            DropActivation(); // nothing stored (or a failed write, which drops it too): the next call meets no job
            throw;
        }
        await PublishSummaryAsync();
        StartReconcileTimer();
        return new SubmitOutcome(true, null, View);
    }

    Task<JobView?> IJobGrain.GetAsync() => Task.FromResult(View);

    Task<JobResult?> IJobGrain.GetResultAsync() => Task.FromResult(state.State.Result);

    async Task<JobView?> IJobGrain.CancelAsync()
    {
        if (View is not { } view || view.Status.IsTerminal()) return View;
        await FinishAsync(JobStatus.Cancelled, "cancelled by the client", null);
        await WithdrawUnitsAsync();
        await DrainCreditsAsync();
        return View;
    }

    async Task IJobGrain.MarkStartedAsync()
    {
        if (View is not { Status: JobStatus.Submitted } view) return;
        // Not stored on its own: the write that ends the job stores it (a job reactivated with outputs is Running).
        state.State.View = view with { Status = JobStatus.Running, StartedAt = clock.GetUtcNow() };
        await PublishSummaryAsync();
    }

    async Task IJobGrain.AcceptUnitsAsync(IReadOnlyList<VerifiedUnit> units)
    {
        // Late results of an ended job are dropped: nobody pays for them (a completed job already has every unit).
        if (View is not { } view || view.Status.IsTerminal()) return;
        var fresh = new List<StoredOutput>();
        var seen = new HashSet<int>();
        foreach (var unit in units)
        {
            if (unit.Index < 0 || unit.Index >= _outputs.Length || _outputs[unit.Index] is not null || !seen.Add(unit.Index)) continue;
            var payees = new List<Payee>(unit.Nodes.Count);
            foreach (var nodeId in unit.Nodes.Distinct(StringComparer.Ordinal))
            {
                var account = await ResolveOperatorAsync(nodeId);
                if (account is null)
                    logger.LogWarning("Job {JobId}: node {NodeId} is not registered; unit {Index} earns it nothing", view.JobId, nodeId, unit.Index);
                payees.Add(new Payee(nodeId, account));
            }
            fresh.Add(new StoredOutput(unit.Index, unit.Output, payees));
        }
        if (fresh.Count == 0) return;

        _lastProgress = clock.GetUtcNow();
        if (_stored + fresh.Count == view.UnitCount)
        {
            // The last units: the result and the credits still owed are stored in the one write that ends the job,
            // so these outputs never need a store of their own.
            foreach (var output in fresh) Keep(output);
            await CompleteAsync();
        }
        else
        {
            IReadOnlyList<StoredOutput> stored;
            try
            {
                stored = await outputStore.SaveAsync(view.JobId, fresh);
            }
            catch
            {
                // The batch may or may not be stored: reload what is, on the shard's redelivery.
                DropActivation();
                throw;
            }
            foreach (var output in stored) Keep(output);
            state.State.View = view with
            {
                UnitsCompleted = _stored,
                Status = view.Status == JobStatus.Submitted ? JobStatus.Running : view.Status,
                StartedAt = view.StartedAt ?? clock.GetUtcNow(),
            };
        }
        await DrainCreditsAsync();
    }

    async Task IJobGrain.FailUnitAsync(int unitIndex, string reason)
    {
        if (View is not { } view || view.Status.IsTerminal()) return;
        await FinishAsync(JobStatus.Failed, reason, null);
        // The caller is a queue shard in the middle of its own turn: awaiting the withdrawal (which calls every shard,
        // that one included) would deadlock. Units leased meanwhile are harmless: results of a failed job are dropped.
        _ = WithdrawUnitsAsync().ContinueWith(
            t => logger.LogWarning(t.Exception, "Job {JobId}: withdrawing units failed", view.JobId),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Current);
        await DrainCreditsAsync();
    }

    async Task<JobView?> IJobGrain.ReconcileAsync()
    {
        if (View is null) return null;
        if (Ended)
        {
            if (HasOutbox) await DrainCreditsAsync();
            return View;
        }
        await ReconcileAsync();
        return View;
    }

    async Task<bool> IJobGrain.ExpireAsync()
    {
        if (View is not { } view) return true;
        if (!view.Status.IsTerminal() || view.FinishedAt is not { } finished || clock.GetUtcNow() - finished < _options.JobRetention)
            return false;
        if (HasOutbox)
        {
            await DrainCreditsAsync();
            if (HasOutbox) return false; // an account is unreachable: kept until every credit is delivered
        }
        await outputStore.DeleteAsync(view.JobId);
        if (_reminderMayExist && await this.GetReminder(CreditReminder) is { } reminder) await this.UnregisterReminder(reminder);
        await state.ClearStateAsync();
        logger.LogInformation("Job {JobId}: retention of {Retention} is over; deleted", view.JobId, _options.JobRetention);
        DeactivateOnIdle();
        return true;
    }

    private void Keep(StoredOutput output)
    {
        if (_outputs[output.Index] is not null) return;
        _outputs[output.Index] = output;
        _stored++;
        _owed.Add(output.Index);
    }

    private async Task CompleteAsync()
    {
        var view = View!;
        var kernel = KernelCatalog.Default.Get(view.Kernel);
        KernelResult result;
        try
        {
            result = kernel.Assemble(state.State.CanonicalParameters, [.. _outputs.Select(o => o!.Output)]);
        }
        catch (Exception ex) when (ex is KernelArgumentException or ArgumentException or InvalidOperationException)
        {
            await FinishAsync(JobStatus.Failed, $"assembling the result failed: {ex.Message}", null);
            return;
        }
        // Outside the catch: a failed write must reach the caller (who redelivers), never mark the job failed.
        await FinishAsync(JobStatus.Completed, null, new JobResult(result.ContentType, result.Data, result.Summary, ResultDigest.Of(result.Data)));
    }

    /// <summary>
    /// Ends the job in one write: status, result, the credits not yet acknowledged and the accounts to release. Only then
    /// are the stored outputs (which those credits were derived from) deleted.
    /// </summary>
    private async Task FinishAsync(JobStatus status, string? error, JobResult? result)
    {
        var s = state.State;
        s.View = View! with
        {
            Status = status,
            FinishedAt = clock.GetUtcNow(),
            Error = error,
            UnitsCompleted = _stored,
            ResultSummary = result?.Summary,
            ResultDigest = result?.Digest,
            ResultContentType = result?.ContentType,
        };
        s.Result = result;
        s.UnitInputs = null;
        s.PendingCredits = [.. _owed.SelectMany(i => CreditsOf(_outputs[i]!))];
        s.Accounts = [.. _outputs.OfType<StoredOutput>().SelectMany(o => o.Payees).Select(p => p.Account).OfType<string>()
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        s.CreditsDelivered = false;
        await WriteAsync();
        _outputs = [];
        _owed.Clear();
        _reconcile?.Dispose();
        _reconcile = null;
        try
        {
            await outputStore.DeleteAsync(s.View.JobId);
        }
        catch (Exception ex)
        {
            // Harmless: nothing reads them any more, and the retention sweep deletes them again.
            logger.LogWarning(ex, "Job {JobId}: deleting stored outputs failed", s.View.JobId);
        }
        await PublishSummaryAsync();
    }

    /// <summary>Queues the units not yet stored, then stores the job without its inputs (the shards own them now).</summary>
    private async Task EnqueueAsync()
    {
        var inputs = state.State.UnitInputs ?? [];
        await EnqueueAsync([.. Enumerable.Range(0, inputs.Count).Where(i => _outputs.Length <= i || _outputs[i] is null)
            .Select(i => new UnitInput(i, inputs[i]))], reconciled: false);
        state.State.Enqueued = true;
        state.State.UnitInputs = null;
        await WriteAsync();
    }

    private Task EnqueueAsync(IReadOnlyList<UnitInput> units, bool reconciled)
    {
        var view = View!;
        return Task.WhenAll(units.GroupBy(u => _options.ShardOf(view.JobId, u.Index)).Select(g =>
            GrainFactory.GetGrain<IWorkQueueGrain>(g.Key).EnqueueAsync(new UnitBatch
            {
                JobId = view.JobId,
                Kernel = view.Kernel,
                CanonicalParameters = state.State.CanonicalParameters,
                UnitCount = view.UnitCount,
                Redundancy = view.Redundancy,
                Priority = view.Priority,
                PricePerUnitMicroCredits = view.PricePerUnitMicroCredits,
                Requirements = view.Requirements,
                Units = [.. g],
                Reconciled = reconciled,
            })));
    }

    private void StartReconcileTimer() =>
        _reconcile ??= this.RegisterGrainTimer(async _ =>
        {
            try
            {
                await ReconcileAsync();
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Job {JobId}: reconciling failed; will retry", View?.JobId);
            }
        }, new GrainTimerCreationOptions(_options.ReconcileInterval, _options.ReconcileInterval));

    /// <summary>
    /// Every unit of an unfinished job is stored here or held by its shard (queued, leased, verified and on its way).
    /// One that is neither was lost on the way (a shard that failed it while the notice to this job was lost, an enqueue
    /// cut short by a crash): it is planned again from the canonical parameters and queued again.
    /// </summary>
    private async Task ReconcileAsync()
    {
        if (_summaryStale && View is not null) await PublishSummaryAsync();
        if (View is not { } view || view.Status.IsTerminal()) return;
        if (!state.State.Enqueued)
        {
            await EnqueueAsync();
            return;
        }
        if (clock.GetUtcNow() - _lastProgress < _options.ReconcileAfter) return;
        var chunk = _options.UnitsPerShardChunk;
        var shards = Enumerable.Range(0, (view.UnitCount + chunk - 1) / chunk).Select(c => _options.ShardOf(view.JobId, c * chunk)).Distinct().ToList();
        var held = new HashSet<int>();
        foreach (var indices in await Task.WhenAll(shards.Select(s => GrainFactory.GetGrain<IWorkQueueGrain>(s).HeldUnitsAsync(view.JobId))))
            held.UnionWith(indices);
        var missing = Enumerable.Range(0, view.UnitCount).Where(i => _outputs[i] is null && !held.Contains(i)).ToList();
        _lastProgress = clock.GetUtcNow();
        if (missing.Count == 0) return;

        state.State.Reconciles++;
        if (state.State.Reconciles > _options.MaxReconciles)
        {
            await FinishAsync(JobStatus.Failed, $"{missing.Count} units were lost {_options.MaxReconciles} times", null);
            await WithdrawUnitsAsync();
            await DrainCreditsAsync();
            return;
        }
        logger.LogWarning("Job {JobId}: {Count} units were nowhere (first: {First}); queueing them again", view.JobId, missing.Count, missing[0]);
        using var parameters = JsonDocument.Parse(state.State.CanonicalParameters);
        var inputs = KernelCatalog.Default.Get(view.Kernel).Plan(parameters.RootElement, KernelLimits.Default).UnitInputs;
        await WriteAsync();
        await EnqueueAsync([.. missing.Select(i => new UnitInput(i, inputs[i]))], reconciled: true);
    }

    private Task WithdrawUnitsAsync() =>
        Task.WhenAll(Enumerable.Range(0, _options.QueueShards)
            .Select(s => GrainFactory.GetGrain<IWorkQueueGrain>(s).CancelJobAsync(View!.JobId)));

    /// <summary>Something is still owed: credits not acknowledged, or (once the job ended) the accounts' releases.</summary>
    private bool HasOutbox => Ended
        ? state.State.PendingCredits.Count > 0 || !state.State.CreditsDelivered || state.State.Accounts.Count > 0
        : _owed.Count > 0;

    /// <summary>
    /// Sends what is owed. While something stays unacknowledged a timer retries it and a reminder revives the job if it
    /// goes away. Resending is always safe: accounts skip units they have, and releasing twice is harmless.
    /// </summary>
    private async Task DrainCreditsAsync()
    {
        if (Ended)
        {
            var s = state.State;
            var paid = await SendCreditsAsync(s.PendingCredits);
            // Cleared in memory only: a crash before the next write means a resend, which the accounts skip.
            s.PendingCredits.RemoveAll(p => paid.Contains(p.OperatorAddress));
            if (s.PendingCredits.Count == 0 && !s.CreditsDelivered)
            {
                // Stored before any release: once an account forgets the job, no credit of it may ever be resent.
                s.CreditsDelivered = true;
                await WriteAsync();
            }
            if (s.CreditsDelivered && s.Accounts.Count > 0)
            {
                var released = await Task.WhenAll(s.Accounts.Select(async a =>
                    await TryAsync(() => GrainFactory.GetGrain<IRewardAccountGrain>(a).ReleaseJobAsync(View!.JobId), a) ? a : null));
                // Cleared in memory only: a later activation releases them again, which is harmless (one write saved per job).
                s.Accounts.RemoveAll(a => released.Contains(a));
            }
        }
        else if (_owed.Count > 0)
        {
            var owed = _owed.ToList();
            var paid = await SendCreditsAsync([.. owed.SelectMany(i => CreditsOf(_outputs[i]!))]);
            foreach (var i in owed)
            {
                if (_outputs[i]!.Payees.All(p => p.Account is null || paid.Contains(p.Account))) _owed.Remove(i);
            }
        }

        if (HasOutbox)
        {
            _retry ??= this.RegisterGrainTimer(RetryAsync,
                new GrainTimerCreationOptions(_options.CreditRetryInterval, _options.CreditRetryInterval) { KeepAlive = true });
            if (!_reminderRegistered)
            {
                await this.RegisterOrUpdateReminder(CreditReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
                _reminderRegistered = _reminderMayExist = true;
            }
            return;
        }
        _retry?.Dispose();
        _retry = null;
        if (!_reminderMayExist) return;
        try
        {
            if (await this.GetReminder(CreditReminder) is { } reminder) await this.UnregisterReminder(reminder);
            _reminderRegistered = _reminderMayExist = false;
        }
        catch (Exception ex)
        {
            // Everything is paid; the reminder comes back to finish this clean-up.
            logger.LogWarning(ex, "Job {JobId}: removing the credit reminder failed; will retry", View?.JobId);
        }
    }

    private async Task RetryAsync(CancellationToken cancellationToken)
    {
        try
        {
            await DrainCreditsAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Job {JobId}: retrying credits failed", View?.JobId);
        }
    }

    /// <summary>Sends credits per account; returns the accounts that acknowledged all of theirs.</summary>
    private async Task<HashSet<string>> SendCreditsAsync(IReadOnlyList<PendingCredit> credits)
    {
        if (credits.Count == 0) return [];
        var acknowledged = await Task.WhenAll(credits.GroupBy(p => p.OperatorAddress).Select(async g =>
            await TryAsync(() => GrainFactory.GetGrain<IRewardAccountGrain>(g.Key).CreditAsync([.. g.Select(p => p.Credit)]), g.Key) ? g.Key : null));
        return acknowledged.OfType<string>().ToHashSet(StringComparer.Ordinal);
    }

    private async Task<bool> TryAsync(Func<Task> call, string account)
    {
        try
        {
            await call();
            return true;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Job {JobId}: a call to account {Account} failed; will retry", View?.JobId, account);
            return false;
        }
    }

    private IEnumerable<PendingCredit> CreditsOf(StoredOutput output) =>
        output.Payees.Where(p => p.Account is not null).Select(p =>
            new PendingCredit(p.Account!, new UnitCredit(View!.JobId, output.Index, p.NodeId, View.PricePerUnitMicroCredits)));

    private async Task<string?> ResolveOperatorAsync(string nodeId)
    {
        if (!_operators.TryGetValue(nodeId, out var address))
        {
            address = await GrainFactory.GetGrain<INodeGrain>(nodeId).GetOperatorAsync();
            _operators[nodeId] = address;
        }
        return address;
    }

    /// <summary>
    /// Tells the job directory the job's status. The directory is an index, never the truth: a failure here never fails
    /// the job's own step; the job tries again on its next tick, and the directory's sweep corrects stale rows.
    /// </summary>
    private async Task PublishSummaryAsync()
    {
        var v = View!;
        try
        {
            await GrainFactory.GetGrain<IJobDirectoryGrain>(DirectoryShards.Of(v.JobId))
                .UpsertAsync(new JobSummary(v.JobId, v.Kernel, v.Status, v.UnitCount, v.SubmittedAt, v.FinishedAt));
            _summaryStale = false;
        }
        catch (Exception ex)
        {
            _summaryStale = true;
            logger.LogWarning(ex, "Job {JobId}: updating the job directory failed; will retry", v.JobId);
        }
    }

    /// <summary>
    /// Writes the state; if the write fails, the activation's memory is ahead of storage, so it is dropped: the next
    /// call reactivates from what was stored, and the callers (shards, accounts) redeliver idempotently.
    /// </summary>
    private async Task WriteAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            DropActivation();
            throw;
        }
    }

    /// <summary>A write failed: no timer may act on memory that storage may not hold (calls are refused by <see cref="StoredGrain"/>).</summary>
    private void DropActivation()
    {
        Poison();
        _retry?.Dispose();
        _retry = null;
        _reconcile?.Dispose();
        _reconcile = null;
    }

    private static SubmitOutcome Refuse(string error) => new(false, error, null);
}
