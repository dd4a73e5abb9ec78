namespace DePin.Abstractions.Jobs;

/// <summary>What a client asks for: a catalog kernel, its parameters, and how much verification and money it allows.</summary>
[GenerateSerializer, Immutable, Alias("depin.JobRequest")]
public sealed record JobRequest
{
    /// <summary>Catalog kernel name, e.g. <c>saxpy</c>.</summary>
    [Id(0)] public required string Kernel { get; init; }

    /// <summary>Kernel parameters as a JSON object.</summary>
    [Id(1)] public required string ParametersJson { get; init; }

    /// <summary>How many independent nodes must return agreeing output for each unit (1 = no replication).</summary>
    [Id(2)] public int Redundancy { get; init; } = 1;

    /// <summary>Higher runs first within a queue shard.</summary>
    [Id(3)] public int Priority { get; init; }

    /// <summary>Budget in micro-credits; the job is refused if its price exceeds it. Null = no limit.</summary>
    [Id(4)] public long? MaxPriceMicroCredits { get; init; }

    /// <summary>Which nodes may run the units; null = any node.</summary>
    [Id(5)] public JobRequirements? Requirements { get; init; }

    /// <summary>Key id of the API key that submitted the job (set by the API); null for jobs submitted by an Orleans client.</summary>
    [Id(6)] public string? Owner { get; init; }
}

/// <summary>Outcome of a submission: accepted, or refused with a client-facing reason and nothing written.</summary>
[GenerateSerializer, Immutable, Alias("depin.SubmitOutcome")]
public sealed record SubmitOutcome(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] string? Error,
    [property: Id(2)] JobView? Job);
