using DePin.Abstractions.Jobs;
using DePin.Abstractions.Rewards;

namespace DePin.Grains.Jobs;

/// <summary>Persistent state of a <see cref="JobGrain"/>.</summary>
[GenerateSerializer, Alias("depin.JobState")]
public sealed class JobState
{
    [Id(0)] public JobView? View { get; set; }
    [Id(1)] public string CanonicalParameters { get; set; } = "";
    /// <summary>Unit inputs, kept until every unit is queued so an interrupted enqueue can be redone.</summary>
    [Id(2)] public List<byte[]>? UnitInputs { get; set; }
    [Id(3)] public bool Enqueued { get; set; }
    /// <summary>Credits owed but not yet acknowledged by the operators' accounts (an outbox).</summary>
    [Id(5)] public List<PendingCredit> PendingCredits { get; set; } = [];
    [Id(6)] public JobResult? Result { get; set; }
}

/// <summary>A credit owed to an operator for one unit.</summary>
[GenerateSerializer, Immutable, Alias("depin.PendingCredit")]
public sealed record PendingCredit([property: Id(0)] string OperatorAddress, [property: Id(1)] UnitCredit Credit);
