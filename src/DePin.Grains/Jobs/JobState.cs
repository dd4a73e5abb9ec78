using DePin.Abstractions.Jobs;
using DePin.Abstractions.Rewards;

namespace DePin.Grains.Jobs;

/// <summary>
/// Persistent state of a <see cref="JobGrain"/>. While the job runs it changes only on state transitions: unit outputs
/// and who earns them live in the <see cref="IJobOutputStore"/>, and credits are derived from there.
/// </summary>
[GenerateSerializer, Alias("depin.JobState")]
public sealed class JobState
{
    [Id(0)] public JobView? View { get; set; }
    [Id(1)] public string CanonicalParameters { get; set; } = "";
    /// <summary>Unit inputs, kept until every unit is queued so an interrupted enqueue can be redone.</summary>
    [Id(2)] public List<byte[]>? UnitInputs { get; set; }
    [Id(3)] public bool Enqueued { get; set; }
    /// <summary>
    /// Once the job has ended: the credits not yet acknowledged by their accounts (an outbox, written in the same write
    /// that ends the job, because the stored outputs they were derived from are deleted next).
    /// </summary>
    [Id(5)] public List<PendingCredit> PendingCredits { get; set; } = [];
    [Id(6)] public JobResult? Result { get; set; }
    /// <summary>Once the job has ended: every account it credited, owed a release of its de-duplication state.</summary>
    [Id(7)] public List<string> Accounts { get; set; } = [];
    /// <summary>The job has ended and storage knows every credit was acknowledged: no credit is ever sent again, so the
    /// accounts may be released.</summary>
    [Id(8)] public bool CreditsDelivered { get; set; }
    /// <summary>How often the reconciler found units lost and queued them again.</summary>
    [Id(9)] public int Reconciles { get; set; }
}

/// <summary>A credit owed to an operator for one unit.</summary>
[GenerateSerializer, Immutable, Alias("depin.PendingCredit")]
public sealed record PendingCredit([property: Id(0)] string OperatorAddress, [property: Id(1)] UnitCredit Credit);
