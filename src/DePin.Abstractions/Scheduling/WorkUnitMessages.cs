namespace DePin.Abstractions.Scheduling;

/// <summary>Identity of one work unit: a job and the unit's index within it.</summary>
[GenerateSerializer, Immutable, Alias("depin.WorkUnitId")]
public readonly record struct WorkUnitId([property: Id(0)] string JobId, [property: Id(1)] int Index)
{
    /// <inheritdoc />
    public override string ToString() => $"{JobId}/{Index}";
}

/// <summary>What a job hands to a queue shard: the job-wide facts once, then its units.</summary>
[GenerateSerializer, Immutable, Alias("depin.UnitBatch")]
public sealed record UnitBatch
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public required string Kernel { get; init; }
    [Id(2)] public required string CanonicalParameters { get; init; }
    [Id(3)] public int UnitCount { get; init; }
    [Id(4)] public int Redundancy { get; init; } = 1;
    [Id(5)] public int Priority { get; init; }
    [Id(6)] public long PricePerUnitMicroCredits { get; init; }
    /// <summary>Unit indices with their input blobs.</summary>
    [Id(7)] public required IReadOnlyList<UnitInput> Units { get; init; }
    /// <summary>Which nodes may lease these units; null = any.</summary>
    [Id(8)] public Jobs.JobRequirements? Requirements { get; init; }
    /// <summary>
    /// Sent by the job's reconciler for units it found nowhere: the shard takes them even if it saw them leave before
    /// (a unit that left without reaching the job, e.g. a failure notice lost in a crash).
    /// </summary>
    [Id(9)] public bool Reconciled { get; init; }
}

/// <summary>One unit's index and input.</summary>
[GenerateSerializer, Immutable, Alias("depin.UnitInput")]
public sealed record UnitInput([property: Id(0)] int Index, [property: Id(1)] byte[] Input);

/// <summary>A unit leased to a node until <see cref="Deadline"/>.</summary>
[GenerateSerializer, Immutable, Alias("depin.WorkUnitLease")]
public sealed record WorkUnitLease
{
    [Id(0)] public required long LeaseId { get; init; }
    [Id(1)] public required WorkUnitId Unit { get; init; }
    [Id(2)] public required string Kernel { get; init; }
    [Id(3)] public required string CanonicalParameters { get; init; }
    [Id(4)] public int UnitCount { get; init; }
    [Id(5)] public required byte[] Input { get; init; }
    [Id(6)] public DateTimeOffset Deadline { get; init; }
    /// <summary>When the unit entered the queue (for submit-to-start latency).</summary>
    [Id(7)] public DateTimeOffset EnqueuedAt { get; init; }
    [Id(8)] public int Attempt { get; init; }
}

/// <summary>A node's answer for one leased unit: output and its SHA-256 digest, or the error it hit.</summary>
[GenerateSerializer, Immutable, Alias("depin.UnitResult")]
public sealed record UnitResult
{
    [Id(0)] public required long LeaseId { get; init; }
    [Id(1)] public required WorkUnitId Unit { get; init; }
    [Id(2)] public byte[]? Output { get; init; }
    /// <summary>Lower-case hex SHA-256 of <see cref="Output"/>.</summary>
    [Id(3)] public string? Digest { get; init; }
    [Id(4)] public string? Error { get; init; }
    [Id(5)] public double ElapsedMs { get; init; }
}

/// <summary>A unit whose output passed verification, with the nodes that earned it.</summary>
[GenerateSerializer, Immutable, Alias("depin.VerifiedUnit")]
public sealed record VerifiedUnit
{
    [Id(0)] public required int Index { get; init; }
    [Id(1)] public required byte[] Output { get; init; }
    [Id(2)] public required string Digest { get; init; }
    /// <summary>Nodes whose agreeing results verified the unit; each is paid once.</summary>
    [Id(3)] public required IReadOnlyList<string> Nodes { get; init; }
}

/// <summary>How a shard received a batch of results.</summary>
[GenerateSerializer, Immutable, Alias("depin.ReportOutcome")]
public sealed record ReportOutcome(
    [property: Id(0)] int Accepted,
    [property: Id(1)] int Verified,
    [property: Id(2)] int Ignored,
    [property: Id(3)] int Failed);

/// <summary>Counters of one queue shard.</summary>
[GenerateSerializer, Immutable, Alias("depin.QueueStats")]
public sealed record QueueStats(
    [property: Id(0)] int Shard,
    [property: Id(1)] int Ready,
    [property: Id(2)] int Leased,
    [property: Id(3)] int Jobs,
    [property: Id(4)] long Verified,
    [property: Id(5)] long Expired);
