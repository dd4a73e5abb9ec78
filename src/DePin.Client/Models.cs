using System.Text.Json;
using System.Text.Json.Serialization;

namespace DePin.Client;

/// <summary>Lifecycle of a job: Submitted → Running → Completed | Failed | Cancelled.</summary>
public enum JobStatus
{
    /// <summary>Unknown (never returned for an existing job).</summary>
    Unknown = 0,
    /// <summary>Accepted and queued; no unit has started.</summary>
    Submitted = 1,
    /// <summary>At least one unit has been leased by a node.</summary>
    Running = 2,
    /// <summary>Every unit verified; the result is available.</summary>
    Completed = 3,
    /// <summary>A unit failed beyond its attempt budget.</summary>
    Failed = 4,
    /// <summary>Cancelled by the client.</summary>
    Cancelled = 5,
}

/// <summary>Helpers on <see cref="JobStatus"/>.</summary>
public static class JobStatusExtensions
{
    /// <summary>True for Completed, Failed and Cancelled.</summary>
    public static bool IsTerminal(this JobStatus status) => status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>Options of a job submission.</summary>
public sealed record SubmitJobOptions
{
    /// <summary>Independent nodes whose outputs must agree per unit (server default 1).</summary>
    public int? Redundancy { get; init; }
    /// <summary>-100..100, higher runs first (server default 0).</summary>
    public int? Priority { get; init; }
    /// <summary>Budget in micro-credits; the job is refused when its price is higher. Null = no limit.</summary>
    public long? MaxPriceMicroCredits { get; init; }
}

/// <summary>A job as returned by <c>GET /jobs/{id}</c>.</summary>
public sealed record JobInfo
{
    /// <summary>Job id.</summary>
    public string JobId { get; init; } = "";
    /// <summary>Catalog kernel name.</summary>
    public string Kernel { get; init; } = "";
    /// <summary>Lifecycle state.</summary>
    public JobStatus Status { get; init; }
    /// <summary>Number of work units.</summary>
    public int UnitCount { get; init; }
    /// <summary>Verified units.</summary>
    public int UnitsCompleted { get; init; }
    /// <summary>Replicas per unit.</summary>
    public int Redundancy { get; init; }
    /// <summary>Scheduling priority.</summary>
    public int Priority { get; init; }
    /// <summary>Price of one unit in micro-credits.</summary>
    public long PricePerUnitMicroCredits { get; init; }
    /// <summary>Price of the whole job in micro-credits.</summary>
    public long PriceMicroCredits { get; init; }
    /// <summary>When the job was accepted.</summary>
    public DateTimeOffset SubmittedAt { get; init; }
    /// <summary>When the first unit was leased.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When the job reached a terminal state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>Failure reason when Failed.</summary>
    public string? Error { get; init; }
    /// <summary>One-line, human-readable result summary when Completed.</summary>
    public string? ResultSummary { get; init; }
    /// <summary>Lower-case hex SHA-256 of the result bytes.</summary>
    public string? ResultDigest { get; init; }
    /// <summary>Content type of the result.</summary>
    public string? ResultContentType { get; init; }
    /// <summary>Fraction of verified units, 0..1.</summary>
    public double Progress { get; init; }
}

/// <summary>A row of <c>GET /jobs</c>.</summary>
public sealed record JobSummaryInfo
{
    /// <summary>Job id.</summary>
    public string JobId { get; init; } = "";
    /// <summary>Catalog kernel name.</summary>
    public string Kernel { get; init; } = "";
    /// <summary>Lifecycle state.</summary>
    public JobStatus Status { get; init; }
    /// <summary>Number of work units.</summary>
    public int UnitCount { get; init; }
    /// <summary>When the job was accepted.</summary>
    public DateTimeOffset SubmittedAt { get; init; }
}

/// <summary>A finished job's result bytes, verified against the server's digest.</summary>
/// <param name="ContentType">Media type, e.g. <c>application/json</c> or <c>image/png</c>.</param>
/// <param name="Bytes">The raw result.</param>
/// <param name="Digest">Lower-case hex SHA-256 of <paramref name="Bytes"/>.</param>
public sealed record JobResultData(string ContentType, byte[] Bytes, string Digest)
{
    /// <summary>True for JSON and text content types.</summary>
    public bool IsText =>
        ContentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
        || ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
        || ContentType.Contains("+json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses the bytes as JSON (for JSON results).</summary>
    public JsonDocument ToJsonDocument() => JsonDocument.Parse(Bytes);
}

/// <summary>A catalog kernel (<c>GET /kernels</c>).</summary>
/// <param name="Name">Kernel name used in submissions.</param>
/// <param name="Description">What it computes.</param>
/// <param name="Comparison">How replica outputs are compared (Exact or Tolerance).</param>
public sealed record KernelDescriptor(string Name, string Description, string Comparison);

/// <summary>A node's device capabilities.</summary>
public sealed record NodeCapabilitiesInfo
{
    /// <summary>Device name.</summary>
    public string DeviceName { get; init; } = "";
    /// <summary>Cuda, OpenCL, IlgpuCpu or VectorCpu.</summary>
    public string DeviceKind { get; init; } = "";
    /// <summary>Device memory in bytes.</summary>
    public long MemoryBytes { get; init; }
    /// <summary>Multiprocessors / cores.</summary>
    public int ComputeUnits { get; init; }
    /// <summary>Warp / SIMD width.</summary>
    public int WarpSize { get; init; }
    /// <summary>Measured SGEMM throughput.</summary>
    public double SgemmGflops { get; init; }
    /// <summary>Measured copy bandwidth.</summary>
    public double CopyGBps { get; init; }
}

/// <summary>A registered compute node (<c>GET /nodes</c>).</summary>
public sealed record NodeInfo
{
    /// <summary>Node id.</summary>
    public string NodeId { get; init; } = "";
    /// <summary>EVM address credited for the node's work.</summary>
    public string OperatorAddress { get; init; } = "";
    /// <summary>Orleans silo address.</summary>
    public string SiloAddress { get; init; } = "";
    /// <summary>Device capabilities.</summary>
    public NodeCapabilitiesInfo Capabilities { get; init; } = new();
    /// <summary>First registration.</summary>
    public DateTimeOffset RegisteredAt { get; init; }
    /// <summary>Latest heartbeat.</summary>
    public DateTimeOffset LastHeartbeat { get; init; }
    /// <summary>Whether the node is heartbeating.</summary>
    public bool Online { get; init; }
    /// <summary>Units whose output was verified.</summary>
    public long UnitsVerified { get; init; }
    /// <summary>Units whose output disagreed with the verified output.</summary>
    public long UnitsRejected { get; init; }
    /// <summary>Share of agreeing results, 0..1.</summary>
    public double Reputation { get; init; }
}

/// <summary>An operator's earnings (<c>GET /accounts/{address}</c>).</summary>
public sealed record AccountInfo
{
    /// <summary>Normalized EVM address.</summary>
    public string Address { get; init; } = "";
    /// <summary>All credits ever, in micro-credits (1 credit = 10^6 micro-credits).</summary>
    public long CumulativeMicroCredits { get; init; }
    /// <summary>Units credited.</summary>
    public long UnitsCredited { get; init; }
    /// <summary>Cumulative amount included in the latest closed epoch.</summary>
    public long SettledCumulativeMicroCredits { get; init; }
    /// <summary>Latest epoch that included this account.</summary>
    public long? LastEpoch { get; init; }
    /// <summary>Latest credit.</summary>
    public DateTimeOffset? LastCreditAt { get; init; }
    /// <summary>Nodes operated by this address.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];
}

/// <summary>Where an epoch's settlement batch stands on chain.</summary>
public enum SettlementState
{
    /// <summary>Batch recorded; no transaction has been sent.</summary>
    NotSent = 0,
    /// <summary>Transaction sent, not yet confirmed.</summary>
    Sent = 1,
    /// <summary>Mined with the configured confirmations.</summary>
    Confirmed = 2,
    /// <summary>Nothing to settle.</summary>
    Empty = 3,
}

/// <summary>One account's line in an epoch batch.</summary>
/// <param name="Address">EVM address.</param>
/// <param name="CumulativeMicroCredits">Cumulative earnings at close.</param>
/// <param name="DeltaMicroCredits">What this epoch adds.</param>
public sealed record EpochEntry(string Address, long CumulativeMicroCredits, long DeltaMicroCredits);

/// <summary>A closed epoch and its settlement batch (<c>GET /epochs</c>).</summary>
public sealed record EpochInfo
{
    /// <summary>Epoch number.</summary>
    public long Epoch { get; init; }
    /// <summary>When it was closed.</summary>
    public DateTimeOffset ClosedAt { get; init; }
    /// <summary>Batch entries.</summary>
    public IReadOnlyList<EpochEntry> Entries { get; init; } = [];
    /// <summary>Sum of cumulative amounts at close.</summary>
    public long TotalCumulativeMicroCredits { get; init; }
    /// <summary>Sum of deltas.</summary>
    public long EpochMicroCredits { get; init; }
    /// <summary>On-chain settlement state.</summary>
    public SettlementState State { get; init; }
    /// <summary>Merkle root of the batch, when computed.</summary>
    public string? MerkleRoot { get; init; }
    /// <summary>Settlement transaction, when sent.</summary>
    public string? TransactionHash { get; init; }
}

/// <summary>JSON conventions of the API: camelCase, enums as strings.</summary>
public static class DePinJson
{
    /// <summary>Shared serializer options (camelCase, case-insensitive reads, string enums).</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        o.Converters.Add(new JsonStringEnumConverter());
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }
}
