namespace DePin.Abstractions.Jobs;

/// <summary>A job as shown to clients.</summary>
[GenerateSerializer, Immutable, Alias("depin.JobView")]
public sealed record JobView
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public required string Kernel { get; init; }
    [Id(2)] public JobStatus Status { get; init; }
    [Id(3)] public int UnitCount { get; init; }
    [Id(4)] public int UnitsCompleted { get; init; }
    [Id(5)] public int Redundancy { get; init; }
    [Id(6)] public int Priority { get; init; }
    [Id(7)] public long PricePerUnitMicroCredits { get; init; }
    [Id(8)] public long PriceMicroCredits { get; init; }
    [Id(9)] public DateTimeOffset SubmittedAt { get; init; }
    [Id(10)] public DateTimeOffset? StartedAt { get; init; }
    [Id(11)] public DateTimeOffset? FinishedAt { get; init; }
    [Id(12)] public string? Error { get; init; }
    [Id(13)] public string? ResultSummary { get; init; }
    [Id(14)] public string? ResultDigest { get; init; }
    [Id(15)] public string? ResultContentType { get; init; }
    [Id(16)] public JobRequirements? Requirements { get; init; }
    /// <summary>Estimated work of the whole job (all units, one replica), in GFLOP, from the kernel's cost model.</summary>
    [Id(17)] public double EstimatedGflop { get; init; }
    /// <summary>Key id of the API key that submitted the job; only it (and admins) may see or cancel the job.</summary>
    [Id(18)] public string? Owner { get; init; }

    /// <summary>Fraction of verified units, 0..1.</summary>
    public double Progress => UnitCount == 0 ? 0 : (double)UnitsCompleted / UnitCount;
}

/// <summary>A finished job's assembled output.</summary>
[GenerateSerializer, Immutable, Alias("depin.JobResult")]
public sealed record JobResult(
    [property: Id(0)] string ContentType,
    [property: Id(1)] byte[] Data,
    [property: Id(2)] string Summary,
    [property: Id(3)] string Digest);
