using DePin.Abstractions;
using System.Text.Json;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Rewards;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;
using DePin.Grains.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DePin.Grains.Jobs;

/// <summary>
/// A client's job. Validates and splits it through the kernel catalog, spreads its units over the queue shards, keeps
/// verified outputs (idempotent per unit index) and is the single authority that turns a verified unit into credits.
/// </summary>
public sealed class JobGrain(
    [PersistentState("job", StorageNames.Store)] IPersistentState<JobState> state,
    IJobOutputStore outputStore,
    IOptions<SchedulerOptions> options,
    TimeProvider clock,
    ILogger<JobGrain> logger) : Grain, IJobGrain, IRemindable
{
    private const string CreditReminder = "credits";
    private readonly SchedulerOptions _options = options.Value;
    private readonly Dictionary<string, string?> _operators = [];
    private byte[]?[] _outputs = [];
    private IGrainTimer? _creditRetry;
    // Whether storage may hold credits (the cleared outbox is written lazily, so it may hold acknowledged ones).
    private bool _outboxStored;
    // The credit reminder surely exists (registered or fired in this activation) / may exist (left by an earlier one).
    private bool _reminderRegistered;
    private bool _reminderMayExist;
    private JobView? View => state.State.View;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (View is { } running && !running.Status.IsTerminal())
        {
            _outputs = await outputStore.LoadAsync(running.JobId, running.UnitCount);
            // The count follows the stored outputs: state is written before outputs, so a crash between the two
            // makes the shard redeliver, and the job accepts (and the accounts deduplicate) those units again.
            state.State.View = running with { UnitsCompleted = _outputs.Count(o => o is not null) };
        }
        // Finish what a previous activation may have left half done: queueing units, paying credits.
        if (View is { } view && !view.Status.IsTerminal() && !state.State.Enqueued) await EnqueueAsync();
        _outboxStored = _reminderMayExist = state.State.PendingCredits.Count > 0;
        if (_outboxStored) await DrainCreditsAsync();
    }

    /// <summary>The credit reminder: a job that went away with credits owed comes back to pay them.</summary>
    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        _reminderRegistered = true;
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
        _outputs = new byte[]?[plan.UnitCount];
        await WriteAsync();
        await PublishSummaryAsync();
        await EnqueueAsync();
        return new SubmitOutcome(true, null, View);
    }

    Task<JobView?> IJobGrain.GetAsync() => Task.FromResult(View);

    Task<JobResult?> IJobGrain.GetResultAsync() => Task.FromResult(state.State.Result);

    async Task<JobView?> IJobGrain.CancelAsync()
    {
        if (View is not { } view || view.Status.IsTerminal()) return View;
        await FinishAsync(JobStatus.Cancelled, "cancelled by the client");
        await WithdrawUnitsAsync();
        return View;
    }

    async Task IJobGrain.MarkStartedAsync()
    {
        if (View is not { Status: JobStatus.Submitted } view) return;
        state.State.View = view with { Status = JobStatus.Running, StartedAt = clock.GetUtcNow() };
        await WriteAsync();
        await PublishSummaryAsync();
    }

    async Task IJobGrain.AcceptUnitsAsync(IReadOnlyList<VerifiedUnit> units)
    {
        // Late results of a cancelled or failed job are dropped: nobody pays for them.
        if (View is not { } view || view.Status is JobStatus.Cancelled or JobStatus.Failed) return;
        var outputs = _outputs;
        var added = new List<(int Index, byte[] Output)>();
        foreach (var unit in units)
        {
            if (unit.Index < 0 || unit.Index >= outputs.Length || outputs[unit.Index] is not null) continue;
            outputs[unit.Index] = unit.Output;
            added.Add((unit.Index, unit.Output));
            foreach (var nodeId in unit.Nodes)
            {
                var operatorAddress = await ResolveOperatorAsync(nodeId);
                if (operatorAddress is null)
                {
                    logger.LogWarning("Job {JobId}: node {NodeId} is not registered; unit {Index} earns it nothing", view.JobId, nodeId, unit.Index);
                    continue;
                }
                state.State.PendingCredits.Add(new PendingCredit(operatorAddress,
                    new UnitCredit(view.JobId, unit.Index, nodeId, view.PricePerUnitMicroCredits)));
            }
        }
        if (added.Count == 0) return;

        view = view with
        {
            UnitsCompleted = view.UnitsCompleted + added.Count,
            Status = view.Status == JobStatus.Submitted ? JobStatus.Running : view.Status,
            StartedAt = view.StartedAt ?? clock.GetUtcNow(),
        };
        state.State.View = view;
        if (view.UnitsCompleted == view.UnitCount)
        {
            await CompleteAsync();
        }
        else
        {
            await WriteAsync();
            try
            {
                await outputStore.SaveAsync(view.JobId, added);
            }
            catch
            {
                // Memory holds outputs the store does not: drop it, so the shard's redelivery is accepted again.
                DeactivateOnIdle();
                throw;
            }
        }
        await DrainCreditsAsync();
    }

    async Task IJobGrain.FailUnitAsync(int unitIndex, string reason)
    {
        if (View is not { } view || view.Status.IsTerminal()) return;
        await FinishAsync(JobStatus.Failed, reason);
        // The caller is a queue shard in the middle of its own turn: awaiting the withdrawal (which calls every shard,
        // that one included) would deadlock. Units leased meanwhile are harmless: results of a failed job are dropped.
        _ = WithdrawUnitsAsync().ContinueWith(
            t => logger.LogWarning(t.Exception, "Job {JobId}: withdrawing units failed", view.JobId),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Current);
    }

    private async Task CompleteAsync()
    {
        var view = View!;
        var kernel = KernelCatalog.Default.Get(view.Kernel);
        KernelResult result;
        try
        {
            result = kernel.Assemble(state.State.CanonicalParameters, _outputs!);
        }
        catch (Exception ex) when (ex is KernelArgumentException or ArgumentException or InvalidOperationException)
        {
            await FinishAsync(JobStatus.Failed, $"assembling the result failed: {ex.Message}");
            return;
        }
        // Outside the catch: a failed write must reach the caller (who redelivers), never mark the job failed.
        state.State.Result = new JobResult(result.ContentType, result.Data, result.Summary, ResultDigest.Of(result.Data));
        state.State.View = view with
        {
            ResultSummary = result.Summary,
            ResultDigest = state.State.Result.Digest,
            ResultContentType = result.ContentType,
        };
        await FinishAsync(JobStatus.Completed, null);
    }

    private async Task FinishAsync(JobStatus status, string? error)
    {
        state.State.View = View! with { Status = status, FinishedAt = clock.GetUtcNow(), Error = error };
        state.State.UnitInputs = null;
        await WriteAsync();
        // The assembled result (or the end of the job) replaces the unit outputs.
        _outputs = [];
        await outputStore.DeleteAsync(View!.JobId);
        await PublishSummaryAsync();
    }

    private async Task EnqueueAsync()
    {
        var view = View!;
        var inputs = state.State.UnitInputs ?? [];
        var batches = new Dictionary<int, List<UnitInput>>();
        for (var i = 0; i < inputs.Count; i++)
        {
            var shard = _options.ShardOf(view.JobId, i);
            if (!batches.TryGetValue(shard, out var list)) batches[shard] = list = [];
            list.Add(new UnitInput(i, inputs[i]));
        }

        await Task.WhenAll(batches.Select(b => GrainFactory.GetGrain<IWorkQueueGrain>(b.Key).EnqueueAsync(new UnitBatch
        {
            JobId = view.JobId,
            Kernel = view.Kernel,
            CanonicalParameters = state.State.CanonicalParameters,
            UnitCount = view.UnitCount,
            Redundancy = view.Redundancy,
            Priority = view.Priority,
            PricePerUnitMicroCredits = view.PricePerUnitMicroCredits,
            Requirements = view.Requirements,
            Units = b.Value,
        })));
        state.State.Enqueued = true;
        state.State.UnitInputs = null; // the shards own the inputs now
        await WriteAsync();
    }

    private Task WithdrawUnitsAsync() =>
        Task.WhenAll(Enumerable.Range(0, _options.QueueShards)
            .Select(s => GrainFactory.GetGrain<IWorkQueueGrain>(s).CancelJobAsync(View!.JobId)));

    /// <summary>
    /// Sends the credit outbox. While credits stay unacknowledged a timer retries them and a reminder revives the job
    /// if it goes away. Once all are acknowledged the empty outbox is stored before the reminder goes, so storage never
    /// drops a credit before its account has it (resending is safe: accounts deduplicate per job and unit).
    /// </summary>
    private async Task DrainCreditsAsync()
    {
        await FlushCreditsAsync();
        if (state.State.PendingCredits.Count > 0)
        {
            _creditRetry ??= this.RegisterGrainTimer(RetryCreditsAsync,
                new GrainTimerCreationOptions(_options.CreditRetryInterval, _options.CreditRetryInterval) { KeepAlive = true });
            if (!_reminderRegistered)
            {
                await this.RegisterOrUpdateReminder(CreditReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
                _reminderRegistered = _reminderMayExist = true;
            }
            return;
        }
        _creditRetry?.Dispose();
        _creditRetry = null;
        if (!_reminderRegistered && !_reminderMayExist) return;
        try
        {
            if (_outboxStored) await WriteAsync();
            if (await this.GetReminder(CreditReminder) is { } reminder) await this.UnregisterReminder(reminder);
            _reminderRegistered = _reminderMayExist = false;
        }
        catch (Exception ex)
        {
            // Every credit is acknowledged; the reminder comes back to finish this clean-up.
            logger.LogWarning(ex, "Job {JobId}: clearing the paid credit outbox failed; will retry", View?.JobId);
        }
    }

    private async Task RetryCreditsAsync(CancellationToken cancellationToken)
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

    private async Task FlushCreditsAsync()
    {
        var pending = state.State.PendingCredits;
        if (pending.Count == 0) return;
        var acknowledged = await Task.WhenAll(pending.GroupBy(p => p.OperatorAddress).Select(async g =>
        {
            try
            {
                await GrainFactory.GetGrain<IRewardAccountGrain>(g.Key).CreditAsync([.. g.Select(p => p.Credit)]);
                return g.Key;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Job {JobId}: crediting {Count} units to {Account} failed; will retry", View?.JobId, g.Count(), g.Key);
                return null;
            }
        }));
        // Cleared in memory only: the next write stores the smaller outbox, and a crash before it only means a resend
        // that the accounts deduplicate. One storage write per batch instead of two.
        var paid = acknowledged.OfType<string>().ToHashSet(StringComparer.Ordinal);
        pending.RemoveAll(p => paid.Contains(p.OperatorAddress));
    }

    private async Task<string?> ResolveOperatorAsync(string nodeId)
    {
        if (!_operators.TryGetValue(nodeId, out var address))
        {
            address = await GrainFactory.GetGrain<INodeGrain>(nodeId).GetOperatorAsync();
            _operators[nodeId] = address;
        }
        return address;
    }

    private Task PublishSummaryAsync()
    {
        var v = View!;
        return GrainFactory.GetGrain<IJobDirectoryGrain>(DirectoryShards.Of(v.JobId)).UpsertAsync(new JobSummary(v.JobId, v.Kernel, v.Status, v.UnitCount, v.SubmittedAt));
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
            _outboxStored = state.State.PendingCredits.Count > 0;
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }

    private static SubmitOutcome Refuse(string error) => new(false, error, null);
}
